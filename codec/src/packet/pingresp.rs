//! PINGRESP (3.1.1 section 3.13, 5.0 section 3.13): no variable header, no payload.

use crate::error::DecodeError;
use crate::reader::{Reader, Source};

/// Checks that a PINGRESP has nothing after its fixed header.
pub(crate) fn decode<S: Source>(r: Reader<'_, S>) -> Result<(), DecodeError> {
    r.finish("PINGRESP")
}
