//! Introspection commands: COMMAND and CLIENT.

use lunakv_protocol::Reply;

use crate::command::Cmd;

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let _ = v;
}

/// Checks a client name (CLIENT SETNAME, HELLO SETNAME): printable ASCII
/// without spaces.
pub fn validate_client_name(name: &[u8]) -> Result<(), Reply> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(Reply::err_static(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}
