//! The `list` value type.

/// A list value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct List {}

impl List {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }
}
