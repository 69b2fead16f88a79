//! PINGREQ (3.1.1 section 3.12, 5.0 section 3.12): no variable header, no payload.

use crate::error::DecodeError;
use crate::reader::{Reader, Source};

/// Checks that a PINGREQ has nothing after its fixed header.
pub(crate) fn decode<S: Source>(r: Reader<'_, S>) -> Result<(), DecodeError> {
    r.finish("PINGREQ")
}
