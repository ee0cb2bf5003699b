package app

import "net/http"

// bearerClient returns an HTTP client that sends token as a bearer token (none when empty).
func bearerClient(token string) *http.Client {
	if token == "" {
		return nil
	}
	return &http.Client{Transport: bearerTransport{token: token, next: http.DefaultTransport}}
}

type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}
