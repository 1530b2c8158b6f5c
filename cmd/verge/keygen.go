package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// newKeygenCmd is `verge cluster keygen FILE`: a new fleet signing key pair. It writes the
// private key (the base64 of its 32-byte seed, the form fleet_private_key_file reads) to FILE,
// readable by its owner only, and prints the public key as the fleet_public_key line of a
// configuration. It never overwrites a file: a fleet's key replaced by mistake would leave
// every node refusing what is published after.
func newKeygenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "keygen FILE",
		Short: "Make a fleet signing key pair: the private key into FILE, the public key printed",
		Long: `keygen makes an ed25519 key pair for signing function code in a fleet. FILE gets the
private key (base64): point fleet_private_key_file at it on the nodes you publish from, and
nowhere else. The public key is printed as a configuration line: set fleet_public_key to it on
every node. FILE must not exist.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return fmt.Errorf("cluster keygen: %w", err)
			}
			f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("cluster keygen: %s exists; it is not overwritten (a fleet whose key changes refuses what is signed with the new one until every node has its public key)", args[0])
			}
			if err != nil {
				return fmt.Errorf("cluster keygen: %w", err)
			}
			_, err = fmt.Fprintln(f, base64.StdEncoding.EncodeToString(priv.Seed()))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				_ = os.Remove(args[0])
				return fmt.Errorf("cluster keygen: writing %s: %w", args[0], err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote the fleet private key to %s: set fleet_private_key_file to it on the nodes you publish from only\n", args[0])
			fmt.Fprintf(cmd.OutOrStdout(), "fleet_public_key: %s\n", base64.StdEncoding.EncodeToString(pub))
			return nil
		},
	}
}
