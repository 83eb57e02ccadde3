//! The data structures behind the non-string value types. Each module owns
//! its representation (compact encodings for small values, converted past
//! the `*-max-listpack-*` thresholds as Redis does); the commands that use
//! them live in `cmd/`.

pub mod hash;
pub mod list;
pub mod set;
pub mod stream;
pub mod zset;
