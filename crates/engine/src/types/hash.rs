//! The `hash` value type.

/// A hash value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hash {}

impl Hash {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }
}
