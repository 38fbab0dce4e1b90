//! Key and channel names. Every key of the primitive named `N` is `<prefix>{N}:<suffix>`, so
//! all of them share one hash tag (one Redis Cluster slot), and every script receives them in
//! `KEYS`, never builds one itself. Its hint channel `<prefix>{N}:hint` is in the same slot.

use crate::Error;

/// The suffixes, in the order scripts receive them as `KEYS[1..=7]`.
const SUFFIXES: [&str; 7] = ["m", "q", "t", "w", "h", "hd", "x"];

/// A queue's suffixes: the engine's seven, then the queue's own (see `scripts/queue_lib.lua`).
const QUEUE_SUFFIXES: [&str; 16] = [
    "m", "q", "t", "w", "h", "hd", "x", "r", "i", "a", "p", "pq", "jq", "c", "b", "d",
];

/// The keys of one primitive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Keys {
    keys: Vec<String>,
    /// The primitive's hint channel, `<prefix>{N}:hint` (in the slot of its keys).
    hint: String,
}

impl Keys {
    /// The keys of primitive `name` under `prefix`. Names are non-empty, at most 512 bytes,
    /// without `{`, `}` or control characters (which would break the hash tag or the hint
    /// messages).
    pub(crate) fn new(prefix: &str, name: &str) -> Result<Self, Error> {
        Self::with_suffixes(prefix, name, &SUFFIXES)
    }

    /// The keys of a primitive (not a queue) without checking its name.
    pub(crate) fn unchecked_primitive(prefix: &str, name: &str) -> Self {
        Self::unchecked(prefix, name, &SUFFIXES)
    }

    /// The keys of the queue `name` under `prefix`.
    pub(crate) fn queue(prefix: &str, name: &str) -> Result<Self, Error> {
        Self::with_suffixes(prefix, name, &QUEUE_SUFFIXES)
    }

    fn with_suffixes(prefix: &str, name: &str, suffixes: &[&str]) -> Result<Self, Error> {
        if name.is_empty()
            || name.len() > 512
            || name.chars().any(|c| c == '{' || c == '}' || c.is_control())
        {
            return Err(Error::protocol(format!(
                "invalid primitive name {name:?}: 1 to 512 bytes, no braces or control characters"
            )));
        }
        Ok(Self::unchecked(prefix, name, suffixes))
    }

    /// The keys of `name` without checking it (for a handle whose operations all fail).
    pub(crate) fn unchecked(prefix: &str, name: &str, suffixes: &[&str]) -> Self {
        Keys {
            keys: suffixes
                .iter()
                .map(|suffix| format!("{prefix}{{{name}}}:{suffix}"))
                .collect(),
            hint: format!("{prefix}{{{name}}}:hint"),
        }
    }

    /// All keys, in script order.
    pub(crate) fn all(&self) -> &[String] {
        &self.keys
    }

    /// The meta key (`:m`): identifies the primitive.
    pub(crate) fn meta(&self) -> &str {
        &self.keys[0]
    }

    /// The sharded pub/sub channel of the primitive's grant hints (`<prefix>{N}:hint`, the
    /// name the scripts derive from the meta key). A client subscribes to it while it has
    /// waiters on the primitive.
    pub(crate) fn hint(&self) -> &str {
        &self.hint
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hash_tag() {
        let keys = Keys::new("toro:", "jobs").unwrap();
        assert_eq!(keys.meta(), "toro:{jobs}:m");
        assert!(keys.all().iter().all(|k| k.starts_with("toro:{jobs}:")));
        assert_eq!(keys.hint(), "toro:{jobs}:hint");
        assert_eq!(Keys::queue("p:", "q").unwrap().hint(), "p:{q}:hint");
        assert!(Keys::new("toro:", "a{b").is_err());
        assert!(Keys::new("toro:", "").is_err());
    }
}
