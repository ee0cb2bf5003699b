-- cluster_leader: the control URL of the daemon holding the leader lease (docs/scaling.md). The lease
-- itself is Kafka's (internal/lease); the leader writes one row here each time it acquires it, and a
-- follower reads the newest row to forward POST /-/detect to the leader. One key (id = 0): the
-- newest row (highest version, the acquisition time in Unix nanoseconds) wins.
CREATE TABLE IF NOT EXISTS cluster_leader (
    id UInt8,
    url String,
    host String,
    version UInt64,
    acquired_at DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY id;
