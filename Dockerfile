# chainwatch container image: a static binary (CGO_ENABLED=0) on a distroless base, run as non-root.
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t chainwatch .
# The version is stamped like the Makefile does (-X .../internal/app.Version).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/chainwatch/chainwatch/internal/app.Version=${VERSION}" \
      -o /out/chainwatch ./cmd/chainwatch && \
    mkdir -p /out/state && /out/chainwatch version

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="chainwatch" \
      org.opencontainers.image.source="https://github.com/chainwatch/chainwatch"
COPY --from=build /out/chainwatch /usr/local/bin/chainwatch
COPY --from=build --chown=65532:65532 /out/state /var/lib/chainwatch
COPY deploy/chainwatch.example.yaml /etc/chainwatch/chainwatch.yaml
WORKDIR /var/lib/chainwatch
USER 65532:65532
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/chainwatch"]
CMD ["--config", "/etc/chainwatch/chainwatch.yaml", "serve"]
