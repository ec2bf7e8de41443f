//! Ports: what the domain needs from the outside world. Adapters in the other crates implement
//! them; each binary wires the real ones once at start-up.

mod cdn;
mod chat_presence;
mod clock;
mod image_processor;
mod mailer;
mod notification;
mod object_store;
mod place_directory;
mod push;
mod view_counter;

pub use cdn::{Cdn, CdnError, NoCdn};
pub use chat_presence::{ChatPresence, NobodyOnline};
pub use clock::{Clock, FixedClock, SystemClock};
pub use image_processor::{ImageError, ImageProcessor, Shape};
pub use mailer::{Mail, MailError, Mailer};
pub use notification::{Audience, NotificationSignal, SignalError};
pub use object_store::{ObjectMeta, ObjectStore, ObjectStoreError, PresignedRequest};
pub use place_directory::{
    DirectoryError, DirectoryPage, DirectoryPlace, DirectoryQuery, PlaceDirectory,
};
pub use push::{PushMessage, PushOutcome, PushService, PushTarget, Urgency};
pub use view_counter::{ViewBatch, ViewCounter, ViewCounterError};
