//! A push message's body as RFC 8291 encrypts it for one subscription: a fresh P-256 key pair
//! and salt per message, keys derived with HKDF-SHA-256 from the ECDH secret and the
//! subscription's `auth` secret, one `aes128gcm` record (RFC 8188) of 4096 bytes at most.

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, KeyInit};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use super::WebPushError;

/// The record size written in the header: the most a push service must accept.
const RECORD_SIZE: u32 = 4096;
/// Salt (16), record size (4), key id length (1) and the sender's public key (65).
const HEADER: usize = 86;
/// The longest plaintext one 4096-byte record holds: header, delimiter and tag aside.
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - HEADER - 1 - 16;

/// `plaintext` encrypted for the subscription whose keys are `p256dh` (65 bytes, uncompressed)
/// and `auth` (16 bytes), with a fresh key pair and salt.
pub fn encrypt(plaintext: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, WebPushError> {
    let sender = SecretKey::random(&mut rand::rngs::OsRng);
    encrypt_with(plaintext, p256dh, auth, &sender, rand::random())
}

/// [`encrypt`] with the sender's key and salt given (tests reproduce the RFC's vector).
pub fn encrypt_with(plaintext: &[u8], p256dh: &[u8], auth: &[u8], sender: &SecretKey, salt: [u8; 16]) -> Result<Vec<u8>, WebPushError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(WebPushError::TooLarge(plaintext.len()));
    }
    let receiver = PublicKey::from_sec1_bytes(p256dh).map_err(|_| WebPushError::BadKey("p256dh"))?;
    let sender_public = sender.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), receiver.as_affine());
    let (cek, nonce) = content_keys(shared.raw_secret_bytes(), auth, p256dh, sender_public.as_bytes(), &salt)?;
    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let sealed = Aes128Gcm::new(&cek.into()).encrypt(&nonce.into(), record.as_slice()).map_err(|_| WebPushError::Unreadable("seal"))?;
    let mut body = Vec::with_capacity(HEADER + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(sender_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

/// The plaintext of `body` as the subscriber reads it with its private key `receiver` and
/// `auth` secret (what a fake push service checks).
pub fn decrypt(body: &[u8], receiver: &SecretKey, auth: &[u8]) -> Result<Vec<u8>, WebPushError> {
    if body.len() < HEADER + 17 || body[20] != 65 {
        return Err(WebPushError::Unreadable("header"));
    }
    let salt: [u8; 16] = body[..16].try_into().expect("16 bytes");
    let sender_public = &body[21..HEADER];
    let sender = PublicKey::from_sec1_bytes(sender_public).map_err(|_| WebPushError::BadKey("sender key"))?;
    let shared = p256::ecdh::diffie_hellman(receiver.to_nonzero_scalar(), sender.as_affine());
    let receiver_public = receiver.public_key().to_encoded_point(false);
    let (cek, nonce) = content_keys(shared.raw_secret_bytes(), auth, receiver_public.as_bytes(), sender_public, &salt)?;
    let mut record = Aes128Gcm::new(&cek.into()).decrypt(&nonce.into(), &body[HEADER..]).map_err(|_| WebPushError::Unreadable("record"))?;
    // Padding (zeros) after the last record's delimiter.
    while record.last() == Some(&0) {
        record.pop();
    }
    match record.pop() {
        Some(0x02) => Ok(record),
        _ => Err(WebPushError::Unreadable("delimiter")),
    }
}

/// The content-encryption key and nonce (RFC 8291 §3.3-3.4, RFC 8188 §2.2-2.3).
fn content_keys(ecdh: &[u8], auth: &[u8], receiver: &[u8], sender: &[u8], salt: &[u8; 16]) -> Result<([u8; 16], [u8; 12]), WebPushError> {
    if auth.len() != 16 {
        return Err(WebPushError::BadKey("auth"));
    }
    let mut info = Vec::with_capacity(14 + 65 + 65);
    info.extend_from_slice(b"WebPush: info\0");
    info.extend_from_slice(receiver);
    info.extend_from_slice(sender);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh).expand(&info, &mut ikm).map_err(|_| WebPushError::BadKey("ikm"))?;
    let keys = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    keys.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|_| WebPushError::BadKey("cek"))?;
    keys.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| WebPushError::BadKey("nonce"))?;
    Ok((cek, nonce))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8291 Appendix A (webpush.md §3.5).
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";
    const SENDER_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
    const RECEIVER_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const RECEIVER_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
    const BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    #[test]
    fn the_rfc_example_is_reproduced_byte_for_byte_and_read_back() {
        let sender = SecretKey::from_slice(&b64(SENDER_PRIVATE)).unwrap();
        let salt: [u8; 16] = b64(SALT).try_into().unwrap();
        let body = encrypt_with(PLAINTEXT.as_bytes(), &b64(RECEIVER_PUBLIC), &b64(AUTH), &sender, salt).unwrap();
        assert_eq!(URL_SAFE_NO_PAD.encode(&body), BODY);
        let receiver = SecretKey::from_slice(&b64(RECEIVER_PRIVATE)).unwrap();
        assert_eq!(decrypt(&b64(BODY), &receiver, &b64(AUTH)).unwrap(), PLAINTEXT.as_bytes());
    }

    #[test]
    fn fresh_keys_round_trip_and_limits_hold() {
        let receiver = SecretKey::random(&mut rand::rngs::OsRng);
        let public = receiver.public_key().to_encoded_point(false);
        let auth = [7u8; 16];
        let longest = vec![b'x'; MAX_PLAINTEXT];
        let body = encrypt(&longest, public.as_bytes(), &auth).unwrap();
        assert_eq!(body.len(), RECORD_SIZE as usize);
        assert_eq!(decrypt(&body, &receiver, &auth).unwrap(), longest);
        assert_eq!(encrypt(&[b'x'; MAX_PLAINTEXT + 1], public.as_bytes(), &auth), Err(WebPushError::TooLarge(3994)));
        assert_eq!(encrypt(b"hola", &[4u8; 65], &auth), Err(WebPushError::BadKey("p256dh")));
        assert_eq!(encrypt(b"hola", public.as_bytes(), &[1u8; 15]), Err(WebPushError::BadKey("auth")));
        let mut tampered = encrypt(b"hola", public.as_bytes(), &auth).unwrap();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(decrypt(&tampered, &receiver, &auth), Err(WebPushError::Unreadable("record")));
        assert_eq!(decrypt(&body[..50], &receiver, &auth), Err(WebPushError::Unreadable("header")));
    }
}
