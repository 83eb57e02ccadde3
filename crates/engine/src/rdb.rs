//! RDB snapshots in Redis's file format: save, load, DEBUG RELOAD.
