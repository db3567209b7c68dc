//! Record ids as distinct types, so that a ticket id can never be passed
//! where a resident id is expected: swapped arguments do not compile.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The number as stored and as clients see it.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    )*};
}

ids! {
    /// The tenant. Every store method on tenant data takes one, so no query
    /// can forget to scope itself.
    ProviderId;
    EmployeeId;
    ApplicationId;
    AccessTokenId;
    ResidentId;
    CategoryId;
    TicketId;
    CommentId;
    AttachmentId;
    ContactId;
    NotificationId;
    /// An event of the change feed (its row, not its cursor).
    EventId;
    /// An application's webhook endpoint.
    WebhookId;
}
