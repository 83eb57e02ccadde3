//! The `zset` value type.

/// A zset value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {}

impl ZSet {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }
}
