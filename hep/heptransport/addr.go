package heptransport

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strings"
)

// Transport is the wire a target or listen address uses.
type Transport uint8

// Transports. HEP's conventional ports are 9060 (UDP) and 9061 (TCP/TLS).
const (
	UDP Transport = iota + 1 // one HEP packet per datagram
	TCP                      // back-to-back HEP3 packets, framed by the HEP3 length field
	TLS                      // TCP inside TLS 1.2+
)

// String returns "udp", "tcp" or "tls".
func (t Transport) String() string {
	switch t {
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	case TLS:
		return "tls"
	}
	return "transport(" + fmt.Sprint(uint8(t)) + ")"
}

// Addr is a parsed "udp:HOST:PORT", "tcp:HOST:PORT" or "tls:HOST:PORT".
type Addr struct {
	Transport Transport
	HostPort  string // "HOST:PORT" as net.Dial and net.Listen take it
}

// String returns the address in the form ParseAddr accepts.
func (a Addr) String() string { return a.Transport.String() + ":" + a.HostPort }

// ParseAddr parses a target or listen address. The scheme is required so a
// HEP-over-TCP collector is never reached over UDP by accident; IPv6 hosts
// are bracketed ("udp:[::1]:9060"). The port must be present (HEP's usual
// ports are 9060 for UDP and 9061 for TCP/TLS, but nothing forces them).
func ParseAddr(s string) (Addr, error) {
	scheme, hp, ok := strings.Cut(s, ":")
	if !ok {
		return Addr{}, fmt.Errorf("%w: %q has no scheme (want udp:HOST:PORT, tcp:… or tls:…)", ErrBadAddress, s)
	}
	var a Addr
	switch strings.ToLower(scheme) {
	case "udp":
		a.Transport = UDP
	case "tcp":
		a.Transport = TCP
	case "tls":
		a.Transport = TLS
	default:
		return Addr{}, fmt.Errorf("%w: %q: scheme %q is not udp, tcp or tls", ErrBadAddress, s, scheme)
	}
	host, port, err := net.SplitHostPort(hp)
	if err != nil || port == "" {
		return Addr{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	a.HostPort = net.JoinHostPort(host, port)
	return a, nil
}

// TLSFiles names the PEM files for a TLS client or server. The zero value
// uses the system roots and no client certificate.
type TLSFiles struct {
	CAFile   string // roots to verify the peer with (client: server cert; server: client certs)
	CertFile string // own certificate chain (required for a TLS listener)
	KeyFile  string
	// Insecure skips verification of the server certificate (client only).
	// Collectors are often run with self-signed certificates; this is the
	// escape hatch heplify calls -skipverify.
	Insecure bool
}

// config builds a tls.Config. server selects listener semantics: a
// certificate is required, and CAFile demands client certificates.
func (f TLSFiles) config(server bool, serverName string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: f.Insecure}
	if f.CertFile != "" || f.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: TLS key pair %s/%s: %w", ErrBadOptions, f.CertFile, f.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	} else if server {
		return nil, fmt.Errorf("%w: a TLS listener needs CertFile and KeyFile", ErrBadOptions)
	}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("%w: TLS CA file: %w", ErrBadOptions, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: TLS CA file %s holds no PEM certificate", ErrBadOptions, f.CAFile)
		}
		if server {
			c.ClientCAs = pool
			c.ClientAuth = tls.RequireAndVerifyClientCert
		} else {
			c.RootCAs = pool
		}
	}
	return c, nil
}
