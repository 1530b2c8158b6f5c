package cluster

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
)

// fleetTokenLabel separates the fleet credential from any other use of the gossip key.
const fleetTokenLabel = "verge fleet blob credential v1"

// FleetToken derives the fleet's credential from its gossip key (Config.SecretKey, base64):
// HMAC-SHA256 of a fixed label under the key, in unpadded base64url. Every node holding the
// key derives the same credential, no one without the key can, and the credential does not
// give the key away (a peer that learns it can fetch blobs, not read or forge gossip).
func FleetToken(secretKey string) (string, error) {
	key, err := decodeSecretKey(secretKey)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fleetTokenLabel))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}
