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
//! A hit returns the stored JSON text of the result, from which every
//! caller builds its own objects: one caller mutating its claims cannot
//! change what the next one gets.

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

/// The end of the recency list, and an empty slot of the index.
const NONE: u32 = u32::MAX;

struct Node {
    hash: TokenHash,
    verified_json: String,
    times: TimeClaims,
    stored_at_ms: f64,
    /// Neighbours in the recency list.
    newer: u32,
    older: u32,
}

/// Verified tokens of one verifier (one key source, one set of options).
///
/// A small hash table keyed by the token's SHA-256 (uniform already, so
/// its first bytes place it), open addressing with linear probing, over a
/// dense list of nodes that are also linked from newest to oldest use.
pub struct TokenCache {
    settings: CacheSettings,
    nodes: Vec<Node>,
    /// Node numbers by hash; a power-of-two length at least twice the nodes.
    index: Vec<u32>,
    newest: u32,
    oldest: u32,
}

impl TokenCache {
    /// An empty cache.
    pub fn new(settings: CacheSettings) -> Self {
        Self { settings, nodes: Vec::new(), index: Vec::new(), newest: NONE, oldest: NONE }
    }

    /// The number of entries held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Verifies `token` as [`Validation::verify`] does, answering from the
    /// cache when it holds the token and its time claims still allow it at
    /// `now_ms`, and returns the result's JSON text
    /// ([`crate::Verified::to_json`]).
    pub fn verify(&mut self, validation: &Validation, keys: &Keys, token: &str, now_ms: f64) -> Result<String> {
        if token.len() > MAX_TOKEN_LEN {
            // Refused by the size limit before any hashing.
            return validation.verify(keys, token, now_ms).map(|verified| verified.to_json());
        }
        let hash = sha256(token);
        if let Some(json) = self.hit(&hash, validation, now_ms) {
            return Ok(json);
        }
        let verified = validation.verify(keys, token, now_ms)?;
        let json = verified.to_json();
        self.insert(hash, json.clone(), verified.times(), now_ms);
        Ok(json)
    }

    fn hit(&mut self, hash: &TokenHash, validation: &Validation, now_ms: f64) -> Option<String> {
        let (_, id) = self.find(hash)?;
        let node = &self.nodes[id as usize];
        let usable = now_ms - node.stored_at_ms <= self.settings.ttl_ms
            && node.times.check(validation.claim_rules(), validation.verification_time(now_ms)).is_ok();
        if !usable {
            // A full verification decides now, with the precise error.
            self.remove(id);
            return None;
        }
        self.unlink(id);
        self.link_newest(id);
        Some(self.nodes[id as usize].verified_json.clone())
    }

    fn insert(&mut self, hash: TokenHash, verified_json: String, times: TimeClaims, now_ms: f64) {
        if let Some((_, id)) = self.find(&hash) {
            self.remove(id);
        }
        while self.nodes.len() >= self.settings.max_entries && self.oldest != NONE {
            self.remove(self.oldest);
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node { hash, verified_json, times, stored_at_ms: now_ms, newer: NONE, older: NONE });
        self.link_newest(id);
        if self.index.len() < 2 * self.nodes.len() {
            self.rebuild_index();
        } else {
            let slot = self.free_slot(&hash);
            self.index[slot] = id;
        }
    }

    /// The index slot and node number holding `hash`.
    fn find(&self, hash: &TokenHash) -> Option<(usize, u32)> {
        if self.index.is_empty() {
            return None;
        }
        let mask = self.index.len() - 1;
        let mut slot = home(hash, mask);
        loop {
            match self.index[slot] {
                NONE => return None,
                id if self.nodes[id as usize].hash == *hash => return Some((slot, id)),
                _ => slot = (slot + 1) & mask,
            }
        }
    }

    fn free_slot(&self, hash: &TokenHash) -> usize {
        let mask = self.index.len() - 1;
        let mut slot = home(hash, mask);
        while self.index[slot] != NONE {
            slot = (slot + 1) & mask;
        }
        slot
    }

    fn rebuild_index(&mut self) {
        let len = (2 * self.nodes.len()).next_power_of_two().max(16);
        self.index.clear();
        self.index.resize(len, NONE);
        for id in 0..self.nodes.len() {
            let slot = self.free_slot(&self.nodes[id].hash);
            self.index[slot] = id as u32;
        }
    }

    fn remove(&mut self, id: u32) {
        let Some((slot, _)) = self.find(&self.nodes[id as usize].hash) else { return };
        self.clear_slot(slot);
        self.unlink(id);
        // The last node takes the removed one's number.
        let last = self.nodes.len() as u32 - 1;
        if id != last {
            if let Some((moved_slot, _)) = self.find(&self.nodes[last as usize].hash) {
                self.index[moved_slot] = id;
            }
        }
        self.nodes.swap_remove(id as usize);
        if id != last {
            let (newer, older) = (self.nodes[id as usize].newer, self.nodes[id as usize].older);
            match newer {
                NONE => self.newest = id,
                newer => self.nodes[newer as usize].older = id,
            }
            match older {
                NONE => self.oldest = id,
                older => self.nodes[older as usize].newer = id,
            }
        }
    }

    /// Empties an index slot, moving back the entries probed past it, so
    /// that every entry stays reachable from its home slot.
    fn clear_slot(&mut self, mut hole: usize) {
        let mask = self.index.len() - 1;
        self.index[hole] = NONE;
        let mut slot = hole;
        loop {
            slot = (slot + 1) & mask;
            let id = self.index[slot];
            if id == NONE {
                return;
            }
            let home = home(&self.nodes[id as usize].hash, mask);
            // Movable when the hole lies on its probe path (home ..= slot).
            if slot.wrapping_sub(home) & mask >= slot.wrapping_sub(hole) & mask {
                self.index[hole] = id;
                self.index[slot] = NONE;
                hole = slot;
            }
        }
    }

    fn unlink(&mut self, id: u32) {
        let (newer, older) = (self.nodes[id as usize].newer, self.nodes[id as usize].older);
        match newer {
            NONE => self.newest = older,
            newer => self.nodes[newer as usize].older = older,
        }
        match older {
            NONE => self.oldest = newer,
            older => self.nodes[older as usize].newer = newer,
        }
    }

    fn link_newest(&mut self, id: u32) {
        let node = &mut self.nodes[id as usize];
        node.newer = NONE;
        node.older = self.newest;
        match self.newest {
            NONE => self.oldest = id,
            newest => self.nodes[newest as usize].newer = id,
        }
        self.newest = id;
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
