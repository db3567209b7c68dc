//! Reading request bodies in the three encodings the contract accepts,
//! within the configured limits.

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use bytes::Bytes;
use http_body_util::{BodyExt, Limited};

use super::params::{FilePart, ParamLimits, RequestParams};
use super::urlencoded;
use crate::error::HttpError;
use crate::state::Limits;
use connecticket_domain::text::printable;

/// Reads a request's parameters: the query string, then a body of at most
/// `max_body` bytes in whichever encoding its content type names. A body
/// declared larger is refused before a byte of it is read; parameters are
/// counted as the body streams in, so a body with too many of them is
/// refused when the first one too many arrives, not after all of it.
pub(crate) async fn read_params(
    parts: &Parts,
    body: Body,
    limits: Limits,
    max_body: usize,
) -> Result<RequestParams, HttpError> {
    let limits = Limits {
        max_request_bytes: max_body,
        ..limits
    };
    read_params_within(parts, body, limits).await
}

async fn read_params_within(
    parts: &Parts,
    body: Body,
    limits: Limits,
) -> Result<RequestParams, HttpError> {
    if declared_length(parts).is_some_and(|length| length > limits.max_request_bytes as u64) {
        return Err(too_large(limits));
    }
    let mut params = RequestParams::with_limits(ParamLimits {
        max_params: limits.max_params,
        max_bytes: limits.max_param_bytes,
    });
    if let Some(query) = parts.uri.query() {
        urlencoded::parse_into(query.as_bytes(), &mut params)?;
    }
    params.begin_source();
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut body = Limited::new(body, limits.max_request_bytes);
    match read_body_params(&mut body, &content_type, limits, &mut params).await {
        Ok(()) => Ok(params),
        Err(error) => {
            // A body the guard stopped (too slow, or over the memory
            // budget) is answered for that reason, whatever the parser
            // made of it.
            let error = crate::guard::body_failure(parts, &limits, error);
            // Refused part-way: the rest of a body within the limit is
            // read and dropped (at its pace, within the request's deadline)
            // so that the client, still sending, gets this answer rather
            // than a reset connection.
            while let Some(Ok(_)) = body.frame().await {}
            Err(error)
        }
    }
}

async fn read_body_params(
    body: &mut Limited<Body>,
    content_type: &str,
    limits: Limits,
    params: &mut RequestParams,
) -> Result<(), HttpError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "multipart/form-data" => read_multipart_from(body, content_type, limits, params).await,
        "application/json" => {
            // JSON is parsed whole, so its body is held to what its
            // parameters may add up to (with room for the quoting).
            let most = limits
                .max_request_bytes
                .min(limits.max_param_bytes.saturating_mul(2) + 64 * 1024);
            let bytes = read_whole(body, most, limits).await?;
            if bytes.is_empty() {
                return Ok(());
            }
            read_json(&bytes, params)
        }
        "" | "application/x-www-form-urlencoded" => read_urlencoded(body, limits, params).await,
        _ => match read_whole(body, limits.max_request_bytes, limits)
            .await?
            .is_empty()
        {
            true => Ok(()),
            false => Err(HttpError::UnsupportedMediaType),
        },
    }
}

/// Parses a form body as it arrives: each complete `name=value` pair is
/// counted and kept at once; only the pair still arriving is buffered.
async fn read_urlencoded(
    body: &mut Limited<Body>,
    limits: Limits,
    params: &mut RequestParams,
) -> Result<(), HttpError> {
    // One pair, percent-encoded, is at most three times the bytes it
    // decodes to; the decoded parameters are bounded by max_param_bytes.
    let longest_pair = limits.max_param_bytes.saturating_mul(3).max(1024);
    let mut pending: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| body_read_error(error, limits))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        if let Some(end) = pending.iter().rposition(|&b| b == b'&') {
            urlencoded::parse_into(&pending[..end], params)?;
            pending.drain(..=end);
        }
        if pending.len() > longest_pair {
            return Err(HttpError::PayloadTooLarge(format!(
                "the parameters are larger than the limit of {} bytes in total",
                limits.max_param_bytes
            )));
        }
    }
    urlencoded::parse_into(&pending, params)
}

/// A form's fields as sent, in order, from the query string and from an
/// urlencoded body, names repeating as they may (a group of checkboxes):
/// the console's forms, read with the same limits and guard as any body.
#[derive(Debug, Default)]
pub(crate) struct FormFields {
    pub query: Vec<(String, String)>,
    pub body: Vec<(String, String)>,
}

/// Reads a console form (or, with an empty body, a page's query).
pub(crate) async fn read_form_fields(
    parts: &Parts,
    body: Body,
    limits: Limits,
    max_body: usize,
) -> Result<FormFields, HttpError> {
    let limits = Limits {
        max_request_bytes: max_body,
        ..limits
    };
    if declared_length(parts).is_some_and(|length| length > max_body as u64) {
        return Err(too_large(limits));
    }
    // The same counting as the API's parameters: no form costs more than
    // its bytes.
    let mut counted = RequestParams::with_limits(ParamLimits {
        max_params: limits.max_params,
        max_bytes: limits.max_param_bytes,
    });
    let mut fields = FormFields::default();
    if let Some(query) = parts.uri.query() {
        urlencoded::for_each_pair(query.as_bytes(), |name, value| {
            counted.count(name.len() + value.len())?;
            fields.query.push((name, value));
            Ok(())
        })?;
    }
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let mut body = Limited::new(body, max_body);
    let read = match essence.to_ascii_lowercase().as_str() {
        "" | "application/x-www-form-urlencoded" => {
            read_urlencoded_fields(&mut body, limits, &mut counted, &mut fields.body).await
        }
        _ => Err(HttpError::UnsupportedMediaType),
    };
    match read {
        Ok(()) => Ok(fields),
        Err(error) => {
            let error = crate::guard::body_failure(parts, &limits, error);
            while let Some(Ok(_)) = body.frame().await {}
            Err(error)
        }
    }
}

async fn read_urlencoded_fields(
    body: &mut Limited<Body>,
    limits: Limits,
    counted: &mut RequestParams,
    fields: &mut Vec<(String, String)>,
) -> Result<(), HttpError> {
    let longest_pair = limits.max_param_bytes.saturating_mul(3).max(1024);
    let mut pending: Vec<u8> = Vec::new();
    let mut keep = |name: String, value: String| {
        counted.count(name.len() + value.len())?;
        if name.contains('\0') || value.contains('\0') {
            return Err(HttpError::InvalidParameter(format!(
                "{} must not contain NUL characters",
                printable(&name)
            )));
        }
        fields.push((name, value));
        Ok(())
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| body_read_error(error, limits))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        if let Some(end) = pending.iter().rposition(|&b| b == b'&') {
            urlencoded::for_each_pair(&pending[..end], &mut keep)?;
            pending.drain(..=end);
        }
        if pending.len() > longest_pair {
            return Err(HttpError::PayloadTooLarge(format!(
                "the parameters are larger than the limit of {} bytes in total",
                limits.max_param_bytes
            )));
        }
    }
    urlencoded::for_each_pair(&pending, keep)
}

/// The whole body, refused once it passes `most` bytes.
async fn read_whole(
    body: &mut Limited<Body>,
    most: usize,
    limits: Limits,
) -> Result<Vec<u8>, HttpError> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| body_read_error(error, limits))?;
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
            if bytes.len() > most {
                return Err(HttpError::PayloadTooLarge(format!(
                    "request body is larger than the limit of {most} bytes"
                )));
            }
        }
    }
    Ok(bytes)
}

/// The body's length as the client declared it.
pub(crate) fn declared_length(parts: &Parts) -> Option<u64> {
    parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn too_large(limits: Limits) -> HttpError {
    HttpError::PayloadTooLarge(format!(
        "request body is larger than the limit of {} bytes",
        limits.max_request_bytes
    ))
}

fn body_read_error(error: Box<dyn std::error::Error + Send + Sync>, limits: Limits) -> HttpError {
    if error.is::<http_body_util::LengthLimitError>() {
        too_large(limits)
    } else {
        HttpError::MalformedBody(format!("could not read the request body: {error}"))
    }
}

/// Reads a JSON object of scalar parameters as it is parsed, so that the
/// parameter limits apply before anything large is built (a nested value
/// is refused as soon as it opens).
pub(super) fn read_json(bytes: &[u8], params: &mut RequestParams) -> Result<(), HttpError> {
    let mut failure = None;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = serde::Deserializer::deserialize_any(
        &mut deserializer,
        json::Object {
            params,
            failure: &mut failure,
        },
    )
    .and_then(|()| deserializer.end());
    match (parsed, failure) {
        (_, Some(error)) => Err(error),
        (Ok(()), None) => Ok(()),
        (Err(error), None) if error.is_data() => Err(HttpError::MalformedBody(
            "the JSON body must be an object of parameters".to_owned(),
        )),
        (Err(error), None) => Err(HttpError::MalformedBody(format!(
            "malformed JSON body: {error}"
        ))),
    }
}

mod json {
    use std::cell::Cell;
    use std::fmt;

    use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};

    use super::RequestParams;
    use crate::error::HttpError;
    use connecticket_domain::text::printable;

    /// The top-level object; stops at the first parameter it refuses,
    /// keeping the precise error in `failure`.
    pub(super) struct Object<'a> {
        pub params: &'a mut RequestParams,
        pub failure: &'a mut Option<HttpError>,
    }

    impl<'de> Visitor<'de> for Object<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of parameters")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(name) = map.next_key::<String>()? {
                let nested = Cell::new(false);
                let value = match map.next_value_seed(Scalar { nested: &nested }) {
                    Ok(value) => value,
                    Err(error) => {
                        if nested.get() {
                            *self.failure = Some(HttpError::InvalidParameter(format!(
                                "{} must be a string, number or boolean",
                                printable(&name)
                            )));
                        }
                        return Err(error);
                    }
                };
                let Some(text) = value else { continue };
                if let Err(error) = self.params.insert(&name, text) {
                    *self.failure = Some(error);
                    return Err(A::Error::custom("refused parameter"));
                }
            }
            Ok(())
        }
    }

    /// A parameter's value: a string, number or boolean as text; `None` for
    /// null. A nested value is refused as soon as it opens (and `nested`
    /// says so).
    struct Scalar<'n> {
        nested: &'n Cell<bool>,
    }

    impl<'de> DeserializeSeed<'de> for Scalar<'_> {
        type Value = Option<String>;

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Scalar<'_> {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, number or boolean")
        }

        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }

        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(
                serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
            ))
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            self.nested.set(true);
            Err(A::Error::custom("a nested object"))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            self.nested.set(true);
            Err(A::Error::custom("a nested array"))
        }
    }
}

#[cfg(test)]
pub(super) async fn read_multipart(
    body: Body,
    content_type: &str,
    limits: Limits,
    params: &mut RequestParams,
) -> Result<(), HttpError> {
    let mut body = Limited::new(body, limits.max_request_bytes);
    read_multipart_from(&mut body, content_type, limits, params).await
}

/// Reads a multipart body part by part as it arrives: text parts are
/// counted as parameters, file parts held to the per-file limit.
async fn read_multipart_from(
    body: &mut Limited<Body>,
    content_type: &str,
    limits: Limits,
    params: &mut RequestParams,
) -> Result<(), HttpError> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        HttpError::MalformedBody("multipart/form-data without a valid boundary".to_owned())
    })?;
    // Text parts are bounded by the whole-body limit; file parts also by
    // the per-file limit, checked as they stream in (read_part).
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limits.max_request_bytes as u64));
    let stream = futures::stream::unfold(body, |body| async move {
        loop {
            match body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some((Ok::<Bytes, std::io::Error>(data), body)),
                    Err(_) => continue,
                },
                Err(error) => return Some((Err(std::io::Error::other(error)), body)),
            }
        }
    });
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(()),
            Err(error) => return Err(multipart_error(error, limits)),
        };
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(|mime| mime.to_string());
        let file_limit = file_name.as_ref().map(|_| limits.max_file_bytes);
        let data = read_part(field, &name, file_limit, limits).await?;
        match file_name {
            Some(file_name) => {
                params.count(0)?;
                if params.files.len() >= limits.max_files {
                    return Err(HttpError::PayloadTooLarge(format!(
                        "too many attachments; at most {} per request",
                        limits.max_files
                    )));
                }
                params.files.push(FilePart {
                    field: name,
                    file_name,
                    content_type: content_type.unwrap_or_default(),
                    data,
                });
            }
            None => {
                let text = String::from_utf8(data.to_vec()).map_err(|_| {
                    HttpError::InvalidParameter(format!("{} is not valid UTF-8", printable(&name)))
                })?;
                params.insert(&name, text)?;
            }
        }
    }
}

async fn read_part(
    mut field: multer::Field<'_>,
    name: &str,
    file_limit: Option<usize>,
    limits: Limits,
) -> Result<Bytes, HttpError> {
    let mut data = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_error(error, limits))?
    {
        data.extend_from_slice(&chunk);
        if let Some(limit) = file_limit.filter(|limit| data.len() > *limit) {
            return Err(HttpError::PayloadTooLarge(format!(
                "{} is larger than the limit of {limit} bytes per file",
                printable(name)
            )));
        }
    }
    Ok(Bytes::from(data))
}

fn multipart_error(error: multer::Error, limits: Limits) -> HttpError {
    match error {
        multer::Error::StreamSizeExceeded { .. } => too_large(limits),
        multer::Error::StreamReadFailed(ref inner)
            if inner.to_string().contains("length limit exceeded") =>
        {
            too_large(limits)
        }
        other => HttpError::MalformedBody(format!("malformed multipart body: {other}")),
    }
}
