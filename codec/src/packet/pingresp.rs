//! PINGRESP (3.1.1 section 3.13, 5.0 section 3.13): no variable header, no payload.

use crate::error::DecodeError;
use crate::reader::Reader;

/// Checks that a PINGRESP has nothing after its fixed header.
pub(crate) fn decode(r: Reader<'_>) -> Result<(), DecodeError> {
    r.finish("PINGRESP")
}
