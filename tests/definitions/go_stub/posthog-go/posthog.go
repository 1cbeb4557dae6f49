// Package posthog is a minimal stand-in for github.com/posthog/posthog-go, used only to type-check
// generated code offline (the Go module proxy is not reachable from the test machines). It declares
// the public names the generated wrappers and their usage comment rely on, with the SDK's signatures.
package posthog

import "time"

// Properties are event properties.
type Properties map[string]interface{}

// Groups associates an event with group analytics groups.
type Groups map[string]interface{}

// Message is anything the client can enqueue.
type Message interface {
	Validate() error
}

// Capture is a custom event.
type Capture struct {
	Uuid       string
	DistinctId string
	Event      string
	Timestamp  time.Time
	Properties Properties
	Groups     Groups
}

// Validate checks the required fields.
func (c Capture) Validate() error { return nil }

// Config configures a client.
type Config struct {
	Endpoint string
}

// Client sends messages.
type Client interface {
	Enqueue(Message) error
	Close() error
}

type client struct{}

func (client) Enqueue(Message) error { return nil }
func (client) Close() error          { return nil }

// NewWithConfig creates a client.
func NewWithConfig(apiKey string, config Config) (Client, error) { return client{}, nil }
