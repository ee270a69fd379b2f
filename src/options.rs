//! Checked options (linfa's params / valid-params split): a stage's options are plain data with
//! `Default`; [`Check::check`] validates them once and returns [`Valid`], the only form the
//! stage's function accepts. A `Valid<T>` read from a file (the policy's `[features]`, a
//! model's feature options) is checked while it is deserialised, so an invalid value is an
//! error that keeps its place in the file.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Result;

/// Options that can be validated.
pub trait Check: Sized {
    /// Every rule the values must meet, as an error a user can act on (exit 2).
    fn validate(&self) -> Result<()>;

    /// The options, validated.
    fn check(self) -> Result<Valid<Self>> {
        self.validate()?;
        Ok(Valid(self))
    }
}

/// Options that passed [`Check::validate`]; only `check` (or deserialising) makes one.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid<T>(T);

impl<T> Valid<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Valid<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Check + Default> Default for Valid<T> {
    /// The defaults, which must be valid (a test checks each).
    fn default() -> Self {
        T::default().check().expect("default options are valid")
    }
}

impl<T: Serialize> Serialize for Valid<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de> + Check> Deserialize<'de> for Valid<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d)?.check().map_err(serde::de::Error::custom)
    }
}
