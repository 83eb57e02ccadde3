//! Commands of the `string` family.

use bytes::Bytes;
use lunakv_protocol::Reply;

use crate::command::Cmd;
use crate::ctx::{notify, Ctx};
use crate::value::{Str, Value};

/// Declares this family's commands.
pub fn register(v: &mut Vec<Cmd>) {
    let g = "string";
    v.push(Cmd::new("get", 2, "readonly fast", (1, 1, 1), g, "Returns the string value of a key.", get).syntax("key"));
    v.push(Cmd::new("set", -3, "write denyoom", (1, 1, 1), g, "Sets the string value of a key.", set).syntax("key value"));
}

fn get(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    match ctx.get_str(&args[1]) {
        Ok(Some(s)) => Reply::Bulk(s.to_bytes()),
        Ok(None) => Reply::Null,
        Err(e) => e,
    }
}

fn set(ctx: &mut Ctx<'_>, args: &[Bytes]) -> Reply {
    ctx.set_value(&args[1], Value::Str(Str::from_bytes(&args[2])), false);
    ctx.modified(&args[1], notify::STRING, "set");
    Reply::ok()
}
