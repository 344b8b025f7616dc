package brokers_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokers"
)

func ExampleOpen() {
	// "" or "memory" for one node; nats://… or redis://… for several
	// nodes sharing one server.
	b, err := brokers.Open(context.Background(), "memory", brokers.Options{Logger: slog.Default()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	got := make(chan broker.Message, 1)
	if _, err := b.Subscribe(context.Background(), "chat", func(m broker.Message) { got <- m }); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Publish(context.Background(), broker.Message{ID: "m1", Channel: "/chat/room", Events: []string{`"hi"`}}); err != nil {
		fmt.Println(err)
		return
	}
	m := <-got
	fmt.Println(m.Channel, m.Events)

	_, err = brokers.Open(context.Background(), "kafka://host:9092", brokers.Options{})
	fmt.Println(err != nil)
	// Output:
	// /chat/room ["hi"]
	// true
}
