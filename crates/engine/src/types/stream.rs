//! The `stream` value type.

/// A stream value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stream {}

impl Stream {
    /// `OBJECT ENCODING`'s answer.
    pub fn encoding(&self) -> &'static str {
        "placeholder"
    }
}
