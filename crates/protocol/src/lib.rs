//! RESP2/RESP3 wire protocol for lunakv: the request parser (multibulk and
//! inline commands), the protocol-neutral [`Reply`] that every command handler
//! produces, and the encoder that writes a reply for a client's protocol
//! version. No I/O happens here, so every piece is testable and fuzzable on
//! plain byte slices.

#![deny(clippy::unwrap_used, clippy::expect_used)]
// Tests may panic on purpose.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod number;
pub mod parse;
pub mod reply;

pub use number::{fmt_g, fmt_g17, parse_f64, parse_i64};
pub use parse::{parse_request, split_args, ParseError, ParseLimits, Parser, Request};
pub use reply::{encode, Reply};
