// Package admissiontest holds the hostile clients the admission socket's tests use: the
// admission package's own, and the agent's against its socket.
package admissiontest

import (
	"net"
	"time"
)

// NeverReads connects to the admission socket at path and sends list requests as fast as the
// socket takes them, reading no reply. done receives the write error that ends it (the server
// cut it off); stop closes the connection.
func NeverReads(path string) (done <-chan error, stop func(), err error) {
	nc, err := net.Dial("unix", path)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan error, 1)
	go func() {
		line := []byte(`{"op":"list"}` + "\n")
		for {
			nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if _, err := nc.Write(line); err != nil {
				ch <- err
				return
			}
		}
	}()
	return ch, func() { nc.Close() }, nil
}
