//! Command propagation (the stream that feeds replicas and the AOF) and the
//! master side of replication (SYNC / PSYNC).
