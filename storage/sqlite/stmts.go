package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// # Prepared statements
//
// Preparing a statement (parsing the SQL and planning it) costs more than
// running one of the short lookups below, so the statements of the hot
// paths are prepared once, in Open: on the writer, and the reads also on
// the read pool. database/sql prepares a read on each pooled connection
// the first time that connection runs it, and keeps it there.
//
// Inside a transaction a statement is bound to it with Tx.StmtContext.
// The writer has a single connection, on which every statement is already
// prepared, so binding reuses the prepared statement rather than preparing
// it again; the binding ends with the transaction.
//
// Queries off the hot paths (listings, administration, garbage
// collection) keep running from their SQL text.

// stmtID names a prepared statement.
type stmtID int

const (
	stGetUser stmtID = iota
	stGetUserByEmail
	stGetUserBySub
	stCreateUser
	stUpdateUser
	stGetPool
	stGetClient
	stListGroupsForUser
	stPutCode
	stGetCode
	stUpdateCode
	stDeleteCode
	stAddMessage
	stCreateRefreshFamily
	stGetRefreshFamily
	stUpdateRefreshFamily
	stRevokeUserRefreshFamilies
	stCreateRefreshToken
	stGetRefreshToken
	stUpdateRefreshToken
	stCreateAuthCode
	stGetAuthCode
	stUpdateAuthCode
	stCreateLoginSession
	stGetLoginSession
	stDeleteLoginSession
	stGetAttempts
	stPutAttempts
	stDeleteAttempts
	numStmts
)

// stmtDef is a prepared statement's SQL, and whether it only reads (and
// is then prepared on the read pool too).
type stmtDef struct {
	sql  string
	read bool
}

var stmtDefs = [numStmts]stmtDef{
	stGetUser:                   {sqlGetUser, true},
	stGetUserByEmail:            {sqlGetUserByEmail, true},
	stGetUserBySub:              {sqlGetUserBySub, true},
	stCreateUser:                {sqlCreateUser, false},
	stUpdateUser:                {sqlUpdateUser, false},
	stGetPool:                   {sqlGetPool, true},
	stGetClient:                 {sqlGetClient, true},
	stListGroupsForUser:         {sqlListGroupsForUser, true},
	stPutCode:                   {sqlPutCode, false},
	stGetCode:                   {sqlGetCode, true},
	stUpdateCode:                {sqlUpdateCode, false},
	stDeleteCode:                {sqlDeleteCode, false},
	stAddMessage:                {sqlAddMessage, false},
	stCreateRefreshFamily:       {sqlCreateRefreshFamily, false},
	stGetRefreshFamily:          {sqlGetRefreshFamily, true},
	stUpdateRefreshFamily:       {sqlUpdateRefreshFamily, false},
	stRevokeUserRefreshFamilies: {sqlRevokeUserRefreshFamilies, false},
	stCreateRefreshToken:        {sqlCreateRefreshToken, false},
	stGetRefreshToken:           {sqlGetRefreshToken, true},
	stUpdateRefreshToken:        {sqlUpdateRefreshToken, false},
	stCreateAuthCode:            {sqlCreateAuthCode, false},
	stGetAuthCode:               {sqlGetAuthCode, true},
	stUpdateAuthCode:            {sqlUpdateAuthCode, false},
	stCreateLoginSession:        {sqlCreateLoginSession, false},
	stGetLoginSession:           {sqlGetLoginSession, true},
	stDeleteLoginSession:        {sqlDeleteLoginSession, false},
	stGetAttempts:               {sqlGetAttempts, true},
	stPutAttempts:               {sqlPutAttempts, false},
	stDeleteAttempts:            {sqlDeleteAttempts, false},
}

// stmts holds the prepared statements of a Store.
type stmts struct {
	// write has every statement, prepared on the writer.
	write [numStmts]*sql.Stmt
	// read has the reads, prepared on the read pool; nil for writes.
	read [numStmts]*sql.Stmt
}

// prepareStmts prepares every statement of stmtDefs.
func prepareStmts(ctx context.Context, writer, reader *sql.DB) (*stmts, error) {
	st := new(stmts)
	for id, def := range stmtDefs {
		var err error
		if st.write[id], err = writer.PrepareContext(ctx, def.sql); err == nil && def.read {
			st.read[id], err = reader.PrepareContext(ctx, def.sql)
		}
		if err != nil {
			return nil, errors.Join(fmt.Errorf("sqlite: prepare statement %d: %w", id, err), st.close())
		}
	}
	return st, nil
}

// close closes every statement prepared.
func (st *stmts) close() error {
	var errs []error
	for _, set := range [][numStmts]*sql.Stmt{st.read, st.write} {
		for _, s := range set {
			if s != nil {
				errs = append(errs, s.Close())
			}
		}
	}
	return errors.Join(errs...)
}

// stmt returns prepared statement id ready to run where s's queries go:
// bound to s's transaction if any, else on the read pool for a read and on
// the writer for a write.
func (s *Store) stmt(ctx context.Context, id stmtID) *sql.Stmt {
	if s.tx != nil {
		return s.tx.StmtContext(ctx, s.st.write[id])
	}
	if r := s.st.read[id]; r != nil {
		return r
	}
	return s.st.write[id]
}
