// FleetDevices: a key pair made for a device before the write that certifies it. Making an
// RSA 2048 key takes tens to hundreds of milliseconds of one core: serve makes it on a thread
// of its own, so its write thread (and SQLite's write lock) is held only for the write.
import X509

/// A new private key (and so its public key) for CreateKeysAndCertificate.
public struct DeviceKeyPair: Sendable {
    let privateKey: Certificate.PrivateKey

    /// A new key of the kind `algorithm` (RSA 2048 unless told: AWS makes RSA keys).
    public static func generate(_ algorithm: KeyAlgorithm = .rsa2048) throws -> DeviceKeyPair {
        DeviceKeyPair(privateKey: try algorithm.generate())
    }

    /// The public key, PEM (what the response's `keyPair.PublicKey` carries).
    public func publicKeyPEM() throws -> String { try privateKey.publicKey.serializeAsPEM().pemString }
}
