//! A cache of verified tokens, for servers that see the same id_token on
//! many requests: a hit skips the signature and claim checks, never the
//! clock.
//!
//! * The key is the SHA-256 of the whole token, so a token that differs in
//!   any byte (a forged signature included) is a miss and verified in full.
//! * Only successful verifications are stored; a failure is never cached.
//! * An entry is used only while its own time claims allow it (`nbf`,
//!   `exp`, `maxTokenAge` from `iat`, with `clockTolerance`), re-checked on
//!   every hit by the same rule as a full verification, and for at most
//!   `ttl` after it was stored, whether or not the token has an `iat`.
//! * At most `max_entries` entries; the least recently used goes first.
//!
//! The cache decides and the caller keeps the results: each entry has a
//! slot number, stable while it lives and never above `max_entries`, and a
//! verification answers either "a hit in slot n" or "verified, stored in
//! slot n, with this JSON text". The JavaScript layer keeps the parsed
//! result of each slot and hands every caller its own copy (so one caller
//! mutating its claims cannot change what the next one gets), which spares
//! a hit both building and parsing the JSON text.

use crate::error::Result;
use crate::jws::{Keys, MAX_TOKEN_LEN};
use crate::jwt::TimeClaims;
use crate::verifier::Validation;
use alloc::string::String;
use alloc::vec::Vec;

/// How many verified tokens to keep, and for how long at most.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheSettings {
    /// The most entries kept; the least recently used is evicted first.
    pub max_entries: usize,
    /// The longest an entry is used after it was stored, in milliseconds
    /// (shorter when the token's own claims say so).
    pub ttl_ms: f64,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self { max_entries: 1000, ttl_ms: 600_000.0 }
    }
}

type TokenHash = [u8; 32];

/// The end of the recency list, and an empty place in the index.
const NONE: u32 = u32::MAX;

/// What [`TokenCache::verify`] found.
#[derive(Debug, PartialEq)]
pub enum Lookup {
    /// The token was verified before and still is: its result is the one
    /// stored in this slot.
    Hit(u32),
    /// The token was verified now and its result stored in this slot (which
    /// held some other token's result before, if any).
    Stored {
        /// Where the result now lives; below `max_entries`.
        slot: u32,
        /// `{"header":…,"claims":…}`, as [`crate::Verified::to_json`].
        verified_json: String,
    },
}

struct Node {
    hash: TokenHash,
    times: TimeClaims,
    stored_at_ms: f64,
    occupied: bool,
    /// Neighbours in the recency list.
    newer: u32,
    older: u32,
}

/// Verified tokens of one verifier (one key source, one set of options).
///
/// A small hash table keyed by the token's SHA-256 (uniform already, so its
/// first bytes place it), open addressing with linear probing, over slots
/// that are also linked from newest to oldest use.
pub struct TokenCache {
    settings: CacheSettings,
    slots: Vec<Node>,
    vacant: Vec<u32>,
    /// Slot numbers by hash; a power-of-two length at least twice the slots.
    index: Vec<u32>,
    newest: u32,
    oldest: u32,
}

impl TokenCache {
    /// An empty cache bounded by `settings`; it allocates nothing until the
    /// first token is stored.
    pub fn new(settings: CacheSettings) -> Self {
        Self { settings, slots: Vec::new(), vacant: Vec::new(), index: Vec::new(), newest: NONE, oldest: NONE }
    }

    /// Entries held, at most `max_entries`; expired ones count until a
    /// lookup of their token or an eviction removes them.
    pub fn len(&self) -> usize {
        self.slots.len() - self.vacant.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Verifies `token` as [`Validation::verify`] does, unless the cache
    /// holds it and its time claims still allow it at `now_ms`.
    pub fn verify(&mut self, validation: &Validation, keys: &Keys, token: &str, now_ms: f64) -> Result<Lookup> {
        if token.len() > MAX_TOKEN_LEN {
            // Refused by the size limit before any hashing.
            validation.verify(keys, token, now_ms)?;
        }
        let hash = sha256(token);
        if let Some(slot) = self.find(&hash).map(|(_, slot)| slot) {
            let node = &self.slots[slot as usize];
            let usable = now_ms - node.stored_at_ms <= self.settings.ttl_ms
                && node.times.check(validation.claim_rules(), validation.verification_time(now_ms)).is_ok();
            if usable {
                self.unlink(slot);
                self.link_newest(slot);
                return Ok(Lookup::Hit(slot));
            }
            // A full verification decides now, with the precise error.
            self.remove(slot);
        }
        let verified = validation.verify(keys, token, now_ms)?;
        let slot = self.insert(hash, verified.times(), now_ms);
        Ok(Lookup::Stored { slot, verified_json: verified.to_json() })
    }

    fn insert(&mut self, hash: TokenHash, times: TimeClaims, now_ms: f64) -> u32 {
        while self.len() >= self.settings.max_entries && self.oldest != NONE {
            self.remove(self.oldest);
        }
        let node = Node { hash, times, stored_at_ms: now_ms, occupied: true, newer: NONE, older: NONE };
        let slot = match self.vacant.pop() {
            Some(slot) => {
                self.slots[slot as usize] = node;
                slot
            }
            None => {
                self.slots.push(node);
                self.slots.len() as u32 - 1
            }
        };
        self.link_newest(slot);
        if self.index.len() < 2 * self.slots.len() {
            self.rebuild_index();
        } else {
            let place = self.free_place(&hash);
            self.index[place] = slot;
        }
        slot
    }

    /// The index place and slot holding `hash`.
    fn find(&self, hash: &TokenHash) -> Option<(usize, u32)> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut place = home(hash, mask);
        loop {
            match self.index[place] {
                NONE => return None,
                slot if self.slots[slot as usize].hash == *hash => return Some((place, slot)),
                _ => place = (place + 1) & mask,
            }
        }
    }

    fn free_place(&self, hash: &TokenHash) -> usize {
        let mask = self.index.len() - 1;
        let mut place = home(hash, mask);
        while self.index[place] != NONE {
            place = (place + 1) & mask;
        }
        place
    }

    fn rebuild_index(&mut self) {
        let len = (2 * self.slots.len()).next_power_of_two().max(16);
        self.index.clear();
        self.index.resize(len, NONE);
        for slot in 0..self.slots.len() {
            if self.slots[slot].occupied {
                let place = self.free_place(&self.slots[slot].hash);
                self.index[place] = slot as u32;
            }
        }
    }

    fn remove(&mut self, slot: u32) {
        if let Some((place, _)) = self.find(&self.slots[slot as usize].hash) {
            self.clear_place(place);
        }
        self.unlink(slot);
        self.slots[slot as usize].occupied = false;
        self.vacant.push(slot);
    }

    /// Empties an index place, moving back the entries probed past it, so
    /// that every entry stays reachable from its home place.
    fn clear_place(&mut self, mut hole: usize) {
        let mask = self.index.len() - 1;
        self.index[hole] = NONE;
        let mut place = hole;
        loop {
            place = (place + 1) & mask;
            let slot = self.index[place];
            if slot == NONE {
                return;
            }
            let home = home(&self.slots[slot as usize].hash, mask);
            // Movable when the hole lies on its probe path (home ..= place).
            if place.wrapping_sub(home) & mask >= place.wrapping_sub(hole) & mask {
                self.index[hole] = slot;
                self.index[place] = NONE;
                hole = place;
            }
        }
    }

    fn unlink(&mut self, slot: u32) {
        let (newer, older) = (self.slots[slot as usize].newer, self.slots[slot as usize].older);
        match newer {
            NONE => self.newest = older,
            newer => self.slots[newer as usize].older = older,
        }
        match older {
            NONE => self.oldest = newer,
            older => self.slots[older as usize].newer = newer,
        }
    }

    fn link_newest(&mut self, slot: u32) {
        let node = &mut self.slots[slot as usize];
        node.newer = NONE;
        node.older = self.newest;
        match self.newest {
            NONE => self.oldest = slot,
            newest => self.slots[newest as usize].newer = slot,
        }
        self.newest = slot;
    }
}

fn home(hash: &TokenHash, mask: usize) -> usize {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_le_bytes(first) as usize & mask
}

fn sha256(token: &str) -> TokenHash {
    let digest = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut hash = [0u8; 32];
    hash.copy_from_slice(digest.as_ref());
    hash
}

#[cfg(test)]
mod tests;
