//! The encoding of items and results stored in Redis.
//!
//! A stored value is one **version byte** (currently [`VERSION`] = 1) followed by the value in
//! [postcard](https://docs.rs/postcard)'s stable wire format (varint integers, length-prefixed
//! strings and sequences, serde's data model). A later release that changes the format bumps
//! the version byte and keeps reading the old one. Decoding never trusts a length from the
//! wire beyond the bytes actually present, so a foreign or corrupted value is an
//! [`Error::Encoding`], never a panic or a huge allocation.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::Error;

/// The version byte written before every encoded value.
pub const VERSION: u8 = 1;

/// Encodes `value` as the version byte followed by its postcard bytes.
///
/// ```
/// let bytes = toro_sync_redis::codec::encode(&(7u32, "x")).unwrap();
/// assert_eq!(bytes[0], toro_sync_redis::codec::VERSION);
/// let back: (u32, String) = toro_sync_redis::codec::decode(&bytes).unwrap();
/// assert_eq!(back, (7, "x".to_string()));
/// ```
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = vec![VERSION];
    let body = postcard::to_stdvec(value).map_err(|e| Error::Encoding {
        message: e.to_string(),
    })?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes bytes written by [`encode`]; an unknown version byte, trailing bytes or a malformed
/// body are [`Error::Encoding`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    match bytes.split_first() {
        Some((&VERSION, body)) => {
            let (value, rest) = postcard::take_from_bytes(body).map_err(|e| Error::Encoding {
                message: e.to_string(),
            })?;
            if rest.is_empty() {
                Ok(value)
            } else {
                Err(Error::Encoding {
                    message: "trailing bytes".into(),
                })
            }
        }
        Some((version, _)) => Err(Error::Encoding {
            message: format!("unknown encoding version {version}"),
        }),
        None => Err(Error::Encoding {
            message: "empty value".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_bytes_are_errors() {
        assert!(decode::<String>(&[]).is_err());
        assert!(decode::<String>(&[9, 1, b'a']).is_err());
        // A huge length prefix with nothing behind it.
        assert!(decode::<Vec<u8>>(&[VERSION, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode::<u8>(&[VERSION, 1, 2]).is_err());
    }
}
