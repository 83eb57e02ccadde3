//! The `set` value type.

/// A set value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Set {}

impl Set {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }
}
