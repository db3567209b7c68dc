//! Values crossing the driver boundary: parameters bound to statements and
//! columns read from rows, by name. Both engines store the same things the
//! same way (ids and times as 64-bit integers, dates as ISO text, bytes as
//! blobs); only booleans differ in storage, and `FromValue` reads both.

use std::borrow::Cow;

use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use connecticket_domain::audit::{Action, Outcome};
use connecticket_domain::console::ConsoleRole;
use connecticket_domain::model::{
    AccessTokenId, ApplicationId, AttachmentId, CategoryId, CommentId, ContactId, ContactRole,
    EmployeeId, EventId, NotificationId, ProviderId, ResidentId, TicketId, WebhookId,
};
use connecticket_domain::model::{RecipientRole, StaffRole};
use connecticket_domain::notify::{AckVia, Channel, DeliveryState, EscalationState, NotifyEvent};
use connecticket_domain::time::{from_epoch, to_epoch};
use connecticket_domain::workflow::{CategoryRating, TicketStatus};
use connecticket_domain::StoreError;

use crate::error::SqlError;

/// A statement parameter. Nulls keep their type: PostgreSQL needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
    Blob(Option<Cow<'a, [u8]>>),
    Bool(Option<bool>),
}

impl Value<'_> {
    /// The same value, owning what it borrowed (a write gathered into one
    /// statement outlives the records it was built from).
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Int(v) => Value::Int(v),
            Value::Text(v) => Value::Text(v.map(|v| Cow::Owned(v.into_owned()))),
            Value::Blob(v) => Value::Blob(v.map(|v| Cow::Owned(v.into_owned()))),
            Value::Bool(v) => Value::Bool(v),
        }
    }
}

/// A column as a row holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'r> {
    Null,
    Int(i64),
    Text(&'r str),
    Blob(&'r [u8]),
    Bool(bool),
}

impl ValueRef<'_> {
    fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Int(_) => "integer",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
            ValueRef::Bool(_) => "boolean",
        }
    }
}

/// One row of a result; columns are read by name, so a query's column
/// order can never be misread.
pub trait Row {
    fn value(&self, column: &str) -> Result<ValueRef<'_>, SqlError>;
}

impl dyn Row + '_ {
    pub fn get<T: FromValue>(&self, column: &str) -> Result<T, StoreError> {
        let value = self.value(column).map_err(SqlError::into_store)?;
        T::from_value(value).map_err(|expected| {
            StoreError::Corrupt(format!(
                "column {column} holds {}, expected {expected}",
                value.kind()
            ))
        })
    }
}

/// Reading a Rust value from a column; `Err` names what was expected.
pub trait FromValue: Sized {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str>;
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl FromValue for i64 {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Int(v) => Ok(v),
            _ => Err("an integer"),
        }
    }
}

impl FromValue for u64 {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Int(v) => u64::try_from(v).map_err(|_| "a count"),
            _ => Err("a count"),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Bool(v) => Ok(v),
            ValueRef::Int(v) => Ok(v != 0),
            _ => Err("a boolean"),
        }
    }
}

impl FromValue for String {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Text(v) => Ok(v.to_owned()),
            _ => Err("text"),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Blob(v) => Ok(v.to_vec()),
            _ => Err("bytes"),
        }
    }
}

impl FromValue for Bytes {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        Vec::<u8>::from_value(value).map(Bytes::from)
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Int(v) => Ok(from_epoch(v)),
            _ => Err("seconds since the epoch"),
        }
    }
}

/// How dates are stored: ISO text.
pub const ISO_DATE: &str = "%Y-%m-%d";

impl FromValue for NaiveDate {
    fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
        match value {
            ValueRef::Text(v) => NaiveDate::parse_from_str(v, ISO_DATE).map_err(|_| "an ISO date"),
            _ => Err("an ISO date"),
        }
    }
}

macro_rules! vocabulary {
    ($($type:ty => $parse:expr, $expected:literal;)*) => {$(
        impl FromValue for $type {
            fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
                match value {
                    ValueRef::Text(v) => $parse(v).ok_or($expected),
                    _ => Err($expected),
                }
            }
        }
    )*};
}

vocabulary! {
    TicketStatus => TicketStatus::parse, "a ticket status";
    CategoryRating => CategoryRating::parse, "a category rating";
    Action => Action::parse, "an audit action";
    Outcome => Outcome::parse, "an audit outcome";
    ContactRole => ContactRole::parse, "a contact role";
    Channel => Channel::parse, "a notification channel";
    NotifyEvent => NotifyEvent::parse, "a notification event";
    DeliveryState => DeliveryState::parse, "a delivery state";
    RecipientRole => RecipientRole::parse, "a recipient role";
    StaffRole => StaffRole::parse, "a staff role";
    AckVia => AckVia::parse, "an acknowledgment channel";
    EscalationState => EscalationState::parse, "an escalation state";
    ConsoleRole => ConsoleRole::parse, "a console role";
}

macro_rules! spelled {
    ($($type:ty)*) => {$(
        impl From<$type> for Value<'_> {
            fn from(value: $type) -> Self {
                Value::Text(Some(Cow::Borrowed(value.as_str())))
            }
        }
    )*};
}

spelled!(ContactRole Channel NotifyEvent DeliveryState AckVia EscalationState ConsoleRole);

macro_rules! ids {
    ($($id:ident)*) => {$(
        impl FromValue for $id {
            fn from_value(value: ValueRef<'_>) -> Result<Self, &'static str> {
                i64::from_value(value).map($id)
            }
        }

        impl From<$id> for Value<'_> {
            fn from(id: $id) -> Self {
                Value::Int(Some(id.get()))
            }
        }

        impl From<Option<$id>> for Value<'_> {
            fn from(id: Option<$id>) -> Self {
                Value::Int(id.map($id::get))
            }
        }
    )*};
}

ids!(ProviderId EmployeeId ApplicationId AccessTokenId ResidentId CategoryId TicketId CommentId AttachmentId ContactId NotificationId EventId WebhookId);

impl From<i64> for Value<'_> {
    fn from(value: i64) -> Self {
        Value::Int(Some(value))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(value: Option<i64>) -> Self {
        Value::Int(value)
    }
}

impl From<bool> for Value<'_> {
    fn from(value: bool) -> Self {
        Value::Bool(Some(value))
    }
}

impl From<Option<bool>> for Value<'_> {
    fn from(value: Option<bool>) -> Self {
        Value::Bool(value)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(value: &'a str) -> Self {
        Value::Text(Some(Cow::Borrowed(value)))
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(value: &'a String) -> Self {
        Value::Text(Some(Cow::Borrowed(value.as_str())))
    }
}

impl From<String> for Value<'_> {
    fn from(value: String) -> Self {
        Value::Text(Some(Cow::Owned(value)))
    }
}

impl From<Option<String>> for Value<'_> {
    fn from(value: Option<String>) -> Self {
        Value::Text(value.map(Cow::Owned))
    }
}

impl<'a> From<&'a Option<String>> for Value<'a> {
    fn from(value: &'a Option<String>) -> Self {
        Value::Text(value.as_deref().map(Cow::Borrowed))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Value::Text(value.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(value: &'a [u8]) -> Self {
        Value::Blob(Some(Cow::Borrowed(value)))
    }
}

impl<'a> From<Option<&'a [u8]>> for Value<'a> {
    fn from(value: Option<&'a [u8]>) -> Self {
        Value::Blob(value.map(Cow::Borrowed))
    }
}

impl<'a> From<&'a RecipientRole> for Value<'a> {
    fn from(role: &'a RecipientRole) -> Self {
        Value::Text(Some(Cow::Borrowed(role.as_str())))
    }
}

impl From<Option<AckVia>> for Value<'_> {
    fn from(via: Option<AckVia>) -> Self {
        Value::Text(via.map(|v| Cow::Borrowed(v.as_str())))
    }
}

impl<'a> From<&'a Vec<u8>> for Value<'a> {
    fn from(value: &'a Vec<u8>) -> Self {
        Value::Blob(Some(Cow::Borrowed(value.as_slice())))
    }
}

impl<'a> From<&'a Bytes> for Value<'a> {
    fn from(value: &'a Bytes) -> Self {
        Value::Blob(Some(Cow::Borrowed(value.as_ref())))
    }
}

impl From<DateTime<Utc>> for Value<'_> {
    fn from(at: DateTime<Utc>) -> Self {
        Value::Int(Some(to_epoch(at)))
    }
}

impl From<Option<DateTime<Utc>>> for Value<'_> {
    fn from(at: Option<DateTime<Utc>>) -> Self {
        Value::Int(at.map(to_epoch))
    }
}

impl From<Option<NaiveDate>> for Value<'_> {
    fn from(date: Option<NaiveDate>) -> Self {
        Value::Text(date.map(|d| Cow::Owned(d.format(ISO_DATE).to_string())))
    }
}

impl From<TicketStatus> for Value<'_> {
    fn from(status: TicketStatus) -> Self {
        Value::Text(Some(Cow::Borrowed(status.as_str())))
    }
}

impl From<Option<TicketStatus>> for Value<'_> {
    fn from(status: Option<TicketStatus>) -> Self {
        Value::Text(status.map(|s| Cow::Borrowed(s.as_str())))
    }
}

impl From<CategoryRating> for Value<'_> {
    fn from(rating: CategoryRating) -> Self {
        Value::Text(Some(Cow::Borrowed(rating.as_str())))
    }
}
