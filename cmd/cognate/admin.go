package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/storage"
)

const adminUsage = `usage: cognate admin [connection flags] <task> [task flags]

tasks:
  create-user    --email ADDR [--password PW] [--temporary] [--name NAME]
  set-password   --user NAME --password PW [--temporary]
  add-to-group   --user NAME --group GROUP [--create]
  list-users     [--filter 'email ^= "a"'] [--limit N]

  create-api-key [--description TEXT] [--expires 168h]
  list-api-keys
  delete-api-key --id ID

  rotate-keys    [--use access|id|both] [--activate-in 2m]
  list-keys

  import-users   --file users.jsonl   (users with password hashes, docs/IMPORT.md)
  import-errors  --job import-…       (the per-row errors of a user import job)

  webhook-secret   print the key trigger webhooks verify requests with

The admin API is SigV4-signed like AWS's: credentials and the pool come
from the server's data directory unless given as flags. The API-key tasks
(events x-api-key), the signing-key and the import tasks work on the server's database
directly (the data directory's, or the one --storage names); running
servers see an API-key change within seconds, and publish a rotated key
within a minute, signing with it from its activation time.
`

// adminConn is how the CLI reaches a running server.
type adminConn struct {
	endpoint, dataDir, storage, pool, keyID, secret, region string
}

func admin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c adminConn
	fs.StringVar(&c.endpoint, "endpoint", server.DefaultPublicURL, "server URL")
	fs.StringVar(&c.dataDir, "data", server.DefaultDataDir, "the server's data directory (for credentials and pool id)")
	fs.StringVar(&c.storage, "storage", "", "the server's --storage, for the API-key tasks (default: SQLite in --data)")
	fs.StringVar(&c.pool, "pool", "", "user pool id (default: the one in <data>/amplify_outputs.json)")
	fs.StringVar(&c.keyID, "access-key-id", "", "admin access key id (default: <data>/admin-credentials.json)")
	fs.StringVar(&c.secret, "secret-access-key", "", "admin secret access key")
	fs.Usage = func() { io.WriteString(stderr, adminUsage+"\nconnection flags:\n"); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := envDefaults(fs); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("admin: no task")
	}
	task, targs := fs.Arg(0), fs.Args()[1:]
	if run, ok := keyTasks[task]; ok {
		return withPoolKeys(ctx, c, func(store storage.Storage, pool string) error { return run(ctx, store, pool, targs, stdout, stderr) })
	}
	if run, ok := importTasks[task]; ok {
		return withPoolKeys(ctx, c, func(store storage.Storage, pool string) error { return run(ctx, store, pool, targs, stdout, stderr) })
	}
	if run, ok := apiKeyTasks[task]; ok {
		return withAPIKeys(ctx, c.storage, c.dataDir, func(m *apikeys.Manager) error { return run(ctx, m, targs, stdout, stderr) })
	}
	if err := c.resolve(); err != nil {
		return err
	}
	client := cip.New(cip.Options{
		BaseEndpoint: aws.String(c.endpoint),
		Region:       c.region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.keyID, c.secret, ""),
	})
	switch task {
	case "create-user":
		return createUser(ctx, client, c.pool, targs, stdout, stderr)
	case "set-password":
		return setPassword(ctx, client, c.pool, targs, stdout, stderr)
	case "add-to-group":
		return addToGroup(ctx, client, c.pool, targs, stdout, stderr)
	case "list-users":
		return listUsers(ctx, client, c.pool, targs, stdout, stderr)
	}
	fs.Usage()
	return fmt.Errorf("admin: unknown task %q", task)
}

// resolve fills what was not given from the data directory.
func (c *adminConn) resolve() error {
	if c.keyID == "" || c.secret == "" {
		raw, err := os.ReadFile(filepath.Join(c.dataDir, "admin-credentials.json"))
		if err != nil {
			return fmt.Errorf("admin credentials: %w (pass --access-key-id/--secret-access-key or --data)", err)
		}
		var ac server.AdminCredentials
		if err := json.Unmarshal(raw, &ac); err != nil {
			return fmt.Errorf("admin credentials: %w", err)
		}
		c.keyID, c.secret = ac.AccessKeyID, ac.SecretAccessKey
	}
	pool, err := c.poolID()
	if err != nil {
		return err
	}
	c.pool = pool
	c.region = "us-east-1"
	if i := indexByte(c.pool, '_'); i > 0 {
		c.region = c.pool[:i]
	}
	return nil
}

func indexByte(s string, b byte) int {
	for i := range len(s) {
		if s[i] == b {
			return i
		}
	}
	return -1
}

func taskFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("admin "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func createUser(ctx context.Context, c *cip.Client, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("create-user", stderr)
	email := fs.String("email", "", "the user's email (their sign-in name)")
	password := fs.String("password", "", "password (generated and mailed if empty)")
	temporary := fs.Bool("temporary", false, "make the password temporary: the user must change it at first sign-in")
	name := fs.String("name", "", "the user's name attribute")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("create-user: --email is required")
	}
	attrs := []types.AttributeType{{Name: aws.String("email"), Value: email}, {Name: aws.String("email_verified"), Value: aws.String("true")}}
	if *name != "" {
		attrs = append(attrs, types.AttributeType{Name: aws.String("name"), Value: name})
	}
	in := &cip.AdminCreateUserInput{UserPoolId: &pool, Username: email, UserAttributes: attrs}
	if *password != "" {
		in.TemporaryPassword = password
		in.MessageAction = types.MessageActionTypeSuppress
	}
	out, err := c.AdminCreateUser(ctx, in)
	if err != nil {
		return err
	}
	if *password != "" && !*temporary {
		if _, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &pool, Username: out.User.Username, Password: password, Permanent: true}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "created %s (username %s)\n", *email, aws.ToString(out.User.Username))
	return nil
}

func setPassword(ctx context.Context, c *cip.Client, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("set-password", stderr)
	user := fs.String("user", "", "username or email")
	password := fs.String("password", "", "the new password")
	temporary := fs.Bool("temporary", false, "the user must change it at next sign-in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *password == "" {
		return errors.New("set-password: --user and --password are required")
	}
	_, err := c.AdminSetUserPassword(ctx, &cip.AdminSetUserPasswordInput{UserPoolId: &pool, Username: user, Password: password, Permanent: !*temporary})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password set for %s\n", *user)
	return nil
}

func addToGroup(ctx context.Context, c *cip.Client, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("add-to-group", stderr)
	user := fs.String("user", "", "username or email")
	group := fs.String("group", "", "group name")
	create := fs.Bool("create", false, "create the group if it does not exist")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *user == "" || *group == "" {
		return errors.New("add-to-group: --user and --group are required")
	}
	if *create {
		_, err := c.CreateGroup(ctx, &cip.CreateGroupInput{UserPoolId: &pool, GroupName: group})
		var exists *types.GroupExistsException
		if err != nil && !errors.As(err, &exists) {
			return err
		}
	}
	if _, err := c.AdminAddUserToGroup(ctx, &cip.AdminAddUserToGroupInput{UserPoolId: &pool, Username: user, GroupName: group}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %s to %s\n", *user, *group)
	return nil
}

func listUsers(ctx context.Context, c *cip.Client, pool string, args []string, stdout, stderr io.Writer) error {
	fs := taskFlags("list-users", stderr)
	filter := fs.String("filter", "", `Cognito filter, e.g. 'email ^= "ann"'`)
	limit := fs.Int("limit", 0, "stop after this many users (0: all)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tEMAIL\tSTATUS\tENABLED\tCREATED")
	p := cip.NewListUsersPaginator(c, &cip.ListUsersInput{UserPoolId: &pool, Filter: filter})
	n := 0
	for p.HasMorePages() && (*limit == 0 || n < *limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			if *limit != 0 && n >= *limit {
				break
			}
			email := ""
			for _, a := range u.Attributes {
				if aws.ToString(a.Name) == "email" {
					email = aws.ToString(a.Value)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\n", aws.ToString(u.Username), email, u.UserStatus, u.Enabled, aws.ToTime(u.UserCreateDate).Format("2006-01-02 15:04"))
			n++
		}
	}
	return tw.Flush()
}
