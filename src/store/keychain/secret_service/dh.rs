//! The session crypto of the Secret Service's `dh-ietf1024-sha256-aes128-cbc-pkcs7`
//! algorithm, as libsecret and gnome-keyring implement it: Diffie-Hellman in the 1024-bit
//! MODP group of RFC 2409 (Oakley group 2, generator 2), the shared secret left-padded to 128
//! bytes, HKDF-SHA256 (no salt, empty info) to a 16-byte AES key, then AES-128-CBC with
//! PKCS#7 padding and a fresh random IV per secret, sent as the secret's `parameters`.
//!
//! The private exponent is 256 random bits (top bit set), not 1024: the group's own strength
//! is about 80 bits (number field sieve), and a discrete log restricted to a 256-bit exponent
//! costs about 2^128 (Pollard's kangaroo), so the shorter exponent loses nothing (NIST SP
//! 800-56A and RFC 7919 §5.2 ask for at least twice the security strength) and makes both
//! modular exponentiations four times cheaper.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use num_bigint::BigUint;
use zeroize::{Zeroize, Zeroizing};

/// The algorithm name `OpenSession` is called with.
pub const ALGORITHM: &str = "dh-ietf1024-sha256-aes128-cbc-pkcs7";

/// RFC 2409 §6.2, the second Oakley group.
const PRIME: [u8; 128] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC9, 0x0F, 0xDA, 0xA2, 0x21, 0x68, 0xC2, 0x34,
    0xC4, 0xC6, 0x62, 0x8B, 0x80, 0xDC, 0x1C, 0xD1, 0x29, 0x02, 0x4E, 0x08, 0x8A, 0x67, 0xCC, 0x74,
    0x02, 0x0B, 0xBE, 0xA6, 0x3B, 0x13, 0x9B, 0x22, 0x51, 0x4A, 0x08, 0x79, 0x8E, 0x34, 0x04, 0xDD,
    0xEF, 0x95, 0x19, 0xB3, 0xCD, 0x3A, 0x43, 0x1B, 0x30, 0x2B, 0x0A, 0x6D, 0xF2, 0x5F, 0x14, 0x37,
    0x4F, 0xE1, 0x35, 0x6D, 0x6D, 0x51, 0xC2, 0x45, 0xE4, 0x85, 0xB5, 0x76, 0x62, 0x5E, 0x7E, 0xC6,
    0xF4, 0x4C, 0x42, 0xE9, 0xA6, 0x37, 0xED, 0x6B, 0x0B, 0xFF, 0x5C, 0xB6, 0xF4, 0x06, 0xB7, 0xED,
    0xEE, 0x38, 0x6B, 0xFB, 0x5A, 0x89, 0x9F, 0xA5, 0xAE, 0x9F, 0x24, 0x11, 0x7C, 0x4B, 0x1F, 0xE6,
    0x49, 0x28, 0x66, 0x51, 0xEC, 0xE6, 0x53, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

type Encryptor = cbc::Encryptor<aes::Aes128>;
type Decryptor = cbc::Decryptor<aes::Aes128>;

/// Our half of a key exchange.
pub struct KeyPair {
    private: BigUint,
    /// Our public value, big-endian, for `OpenSession`.
    pub public: Vec<u8>,
}

impl KeyPair {
    /// A fresh key pair; `None` when the OS has no randomness to give.
    pub fn generate() -> Option<KeyPair> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(&mut bytes[..]).ok()?;
        bytes[0] |= 0x80;
        let private = BigUint::from_bytes_be(&bytes[..]);
        let public = BigUint::from(2u32)
            .modpow(&private, &BigUint::from_bytes_be(&PRIME))
            .to_bytes_be();
        Some(KeyPair { private, public })
    }

    /// The session key agreed with the service's public value `theirs`; `None` for a value
    /// outside 2..p-2, which no honest service sends.
    pub fn agree(self, theirs: &[u8]) -> Option<Zeroizing<[u8; 16]>> {
        let prime = BigUint::from_bytes_be(&PRIME);
        let theirs = BigUint::from_bytes_be(theirs);
        let one = BigUint::from(1u32);
        if theirs <= one || theirs >= &prime - &one {
            return None;
        }
        let mut shared = Zeroizing::new([0u8; 128]);
        let mut be = theirs.modpow(&self.private, &prime).to_bytes_be();
        shared[128 - be.len()..].copy_from_slice(&be);
        be.zeroize();
        let mut key = Zeroizing::new([0u8; 16]);
        hkdf::Hkdf::<sha2::Sha256>::new(None, &shared[..])
            .expand(&[], &mut key[..])
            .ok()?;
        Some(key)
    }
}

/// Encrypts `plain` under `key`: (IV, ciphertext).
pub fn encrypt(key: &[u8; 16], plain: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut iv = [0u8; 16];
    getrandom::fill(&mut iv).ok()?;
    let mut buf = Zeroizing::new(vec![0u8; plain.len() + 16]);
    buf[..plain.len()].copy_from_slice(plain);
    let n = Encryptor::new(key.into(), &iv.into())
        .encrypt_padded::<Pkcs7>(&mut buf, plain.len())
        .ok()?
        .len();
    Some((iv.to_vec(), buf[..n].to_vec()))
}

/// Decrypts what the service sent under `key` with `iv`; `None` when it does not decrypt.
pub fn decrypt(key: &[u8; 16], iv: &[u8], cipher: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let iv: [u8; 16] = iv.try_into().ok()?;
    let mut buf = Zeroizing::new(cipher.to_vec());
    let n = Decryptor::new(key.into(), &iv.into())
        .decrypt_padded::<Pkcs7>(&mut buf)
        .ok()?
        .len();
    buf.truncate(n);
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_agree_on_one_key_and_it_round_trips() {
        let (a, b) = (KeyPair::generate().unwrap(), KeyPair::generate().unwrap());
        let (a_pub, b_pub) = (a.public.clone(), b.public.clone());
        let (ka, kb) = (a.agree(&b_pub).unwrap(), b.agree(&a_pub).unwrap());
        assert_eq!(ka, kb);
        for plain in [
            &b""[..],
            b"x",
            b"0123456789abcdef",
            b"https://h / @u stored=1.0 password=t",
        ] {
            let (iv, sealed) = encrypt(&ka, plain).unwrap();
            assert_eq!(sealed.len() % 16, 0);
            assert!(sealed.len() > plain.len());
            assert_eq!(&decrypt(&kb, &iv, &sealed).unwrap()[..], plain);
        }
    }

    #[test]
    fn degenerate_public_values_are_refused() {
        let prime = BigUint::from_bytes_be(&PRIME);
        for bad in [
            BigUint::from(0u32),
            BigUint::from(1u32),
            &prime - BigUint::from(1u32),
            prime.clone(),
        ] {
            assert!(
                KeyPair::generate()
                    .unwrap()
                    .agree(&bad.to_bytes_be())
                    .is_none()
            );
        }
    }

    #[test]
    fn a_wrong_key_or_iv_does_not_decrypt_to_the_plain_text() {
        let key = [7u8; 16];
        let (iv, sealed) = encrypt(&key, b"secret line").unwrap();
        let other = decrypt(&[8u8; 16], &iv, &sealed);
        assert!(other.is_none_or(|p| &p[..] != b"secret line"));
        assert!(decrypt(&key, &iv[..15], &sealed).is_none());
    }
}
