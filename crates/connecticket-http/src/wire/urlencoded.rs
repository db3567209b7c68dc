//! Strict `application/x-www-form-urlencoded` decoding: unlike lossy
//! decoders, invalid UTF-8 is refused with the parameter's name instead of
//! being silently replaced.

use percent_encoding::percent_decode;

use super::params::RequestParams;
use crate::error::HttpError;
use connecticket_domain::text::printable;

fn decode(raw: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&spaced).collect()
}

pub(crate) fn parse_into(input: &[u8], params: &mut RequestParams) -> Result<(), HttpError> {
    for_each_pair(input, |name, value| params.insert(&name, value))
}

/// Hands each decoded `name=value` pair to `each`, in order.
pub(crate) fn for_each_pair(
    input: &[u8],
    mut each: impl FnMut(String, String) -> Result<(), HttpError>,
) -> Result<(), HttpError> {
    for pair in input.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let mut halves = pair.splitn(2, |&b| b == b'=');
        let name = decode(halves.next().unwrap_or_default());
        let value = decode(halves.next().unwrap_or_default());
        let name = String::from_utf8(name).map_err(|error| {
            HttpError::InvalidParameter(format!(
                "parameter name {} is not valid UTF-8",
                printable(&String::from_utf8_lossy(error.as_bytes()))
            ))
        })?;
        let value = String::from_utf8(value).map_err(|_| {
            HttpError::InvalidParameter(format!("{} is not valid UTF-8", printable(&name)))
        })?;
        each(name, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent() {
        let mut params = RequestParams::default();
        parse_into(b"title=Fall+in%20room&x=%E2%9C%93&flag", &mut params).expect("valid");
        assert_eq!(params.get("title"), Some("Fall in room"));
        assert_eq!(params.get("x"), Some("\u{2713}"));
        assert_eq!(params.get("flag"), Some(""));
    }

    #[test]
    fn invalid_utf8_names_the_parameter() {
        let mut params = RequestParams::default();
        let error = parse_into(b"title=%FF%FE", &mut params).expect_err("refused");
        assert_eq!(error.to_string(), "title is not valid UTF-8");
    }
}
