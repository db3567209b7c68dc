//! Who was told, and who answered: acknowledgments from every side (the
//! recipient's link, an SMS reply, staff on a recipient's behalf), the
//! staff's list of notifications, and the SMS gateway's callbacks.

mod acknowledgments;
mod gateway;

pub use acknowledgments::{NoticeRequest, SmsReplyOutcome, StaffAcknowledgment, MAX_NOTE_CHARS};
