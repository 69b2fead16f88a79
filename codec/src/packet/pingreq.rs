//! PINGREQ (3.1.1 section 3.12, 5.0 section 3.12): no variable header, no payload.

use crate::error::DecodeError;
use crate::reader::Reader;

/// Checks that a PINGREQ has nothing after its fixed header.
pub(crate) fn decode(r: Reader<'_>) -> Result<(), DecodeError> {
    r.finish("PINGREQ")
}
