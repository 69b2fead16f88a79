//! `Props<T>`: a property set that takes 8 bytes in its packet and allocates only when the
//! packet has properties (never in 3.1.1). Reads and writes go through `Deref`/`DerefMut`, so
//! `publish.properties.topic_alias` works as if the set were inline.

use std::fmt;
use std::ops::{Deref, DerefMut};

/// A property set with a shared, static empty value.
pub trait PropertySet: Default + Clone + PartialEq + fmt::Debug + 'static {
    /// The empty set.
    fn empty() -> &'static Self;
    /// True if no property is set.
    fn is_empty(&self) -> bool;
}

/// The properties of a packet: absent (no allocation) or boxed.
#[derive(Clone, Default)]
pub struct Props<T: PropertySet>(Option<Box<T>>);

impl<T: PropertySet> Props<T> {
    /// No properties.
    pub const fn none() -> Self {
        Props(None)
    }

    /// True if no property is set.
    #[inline]
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            None => true,
            Some(p) => p.is_empty(),
        }
    }

    /// The set, boxed unless empty.
    #[inline]
    pub(crate) fn from_set(set: T) -> Self {
        if set.is_empty() {
            Props(None)
        } else {
            Props(Some(Box::new(set)))
        }
    }

    /// A boxed set (kept even if empty: callers box only what they filled).
    #[inline]
    pub(crate) fn from_box(set: Box<T>) -> Self {
        Props(Some(set))
    }

    /// The set by value (a clone if shared, the default if absent).
    pub fn into_inner(self) -> T {
        self.0.map(|b| *b).unwrap_or_default()
    }
}

impl<T: PropertySet> Deref for Props<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        match &self.0 {
            Some(p) => p,
            None => T::empty(),
        }
    }
}

impl<T: PropertySet> DerefMut for Props<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.0.get_or_insert_with(Box::default)
    }
}

impl<T: PropertySet> From<T> for Props<T> {
    fn from(set: T) -> Self {
        Props::from_set(set)
    }
}

impl<T: PropertySet> PartialEq for Props<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: PropertySet + Eq> Eq for Props<T> {}

impl<T: PropertySet> fmt::Debug for Props<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(feature = "serde")]
impl<T: PropertySet + serde::Serialize> serde::Serialize for Props<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de, T: PropertySet + serde::Deserialize<'de>> serde::Deserialize<'de> for Props<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Props::from_set)
    }
}
