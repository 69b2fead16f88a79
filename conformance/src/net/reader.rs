//! The one async reader: a transport's bytes go through the codec's [`Framer`] (the one place
//! received bytes become packets) and come out as packets, an invalid packet, the close or the
//! deadline. The scripted client and live fuzzing read with it.

use tokio::time::Instant;
use touchstone_codec::{Decoder, FrameError, Framed, Framer};

use crate::net::transport::{CloseKind, Received, Transport};

/// What reading gave.
#[derive(Debug)]
pub enum Read {
    /// A whole packet.
    Packet(Framed),
    /// Bytes the codec rejects (see [`FrameError::resumable`] for whether reading can go on).
    Invalid(FrameError),
    /// The connection is gone; bytes left in the buffer are in [`PacketReader::framer`].
    Closed(CloseKind),
    /// The deadline passed first.
    Timeout,
}

/// Why a read brought no bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The connection is gone.
    Closed(CloseKind),
    /// The deadline passed first.
    Timeout,
}

/// Packets from a [`Transport`].
#[derive(Debug)]
pub struct PacketReader {
    framer: Framer,
}

impl PacketReader {
    /// A reader decoding with `decoder`.
    pub fn new(decoder: Decoder) -> Self {
        PacketReader {
            framer: Framer::new(decoder),
        }
    }

    /// The framer, with what is buffered.
    pub fn framer(&mut self) -> &mut Framer {
        &mut self.framer
    }

    /// A packet already buffered, without reading.
    pub fn buffered(&mut self) -> Result<Option<Framed>, FrameError> {
        self.framer.next_frame()
    }

    /// Reads once from `transport` into the buffer: `Ok` if bytes came, else the close or the
    /// deadline.
    pub async fn fill(
        &mut self,
        transport: &mut Transport,
        deadline: Instant,
    ) -> Result<(), Stopped> {
        match transport.recv(deadline).await {
            Received::Data(b) => {
                self.framer.push(&b);
                Ok(())
            }
            Received::Closed(kind) => Err(Stopped::Closed(kind)),
            Received::Timeout => Err(Stopped::Timeout),
        }
    }

    /// The next packet, reading from `transport` until one is whole, the connection closes or
    /// `deadline` passes.
    pub async fn next(&mut self, transport: &mut Transport, deadline: Instant) -> Read {
        loop {
            match self.framer.next_frame() {
                Ok(Some(f)) => return Read::Packet(f),
                Ok(None) => {}
                Err(e) => return Read::Invalid(e),
            }
            match self.fill(transport, deadline).await {
                Ok(()) => {}
                Err(Stopped::Closed(kind)) => return Read::Closed(kind),
                Err(Stopped::Timeout) => return Read::Timeout,
            }
        }
    }
}
