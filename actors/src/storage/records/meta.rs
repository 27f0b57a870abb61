//! Named values of the store itself (the bootstrap marker and such).

use crate::storage::*;

impl Store {
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.get(&keys::meta(name))
    }
}

impl WriteSet {
    pub fn meta(&mut self, name: &str, value: &[u8]) {
        self.put(keys::meta(name), encode(&value.to_vec()));
    }
}
