package sandbox

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// persistSchema is the database Open keeps the store in. The store stays
// in memory as New's does; every write that succeeds is saved before it
// is answered, in one SQLite transaction: the rows it created or changed
// (a root record with its lines, as JSON), the number sequences, and the
// answer remembered for its MessageId. A process killed at any moment so
// leaves the file as it was after the last write it answered, or the one
// before.
const persistSchema = `
CREATE TABLE IF NOT EXISTS ax_rows (
	rec_id  INTEGER PRIMARY KEY, -- the root record's RecId: creation order
	company TEXT NOT NULL,
	tbl     TEXT NOT NULL,
	version INTEGER NOT NULL,
	fields  TEXT NOT NULL, -- JSON object
	lines   TEXT NOT NULL  -- JSON object: child table -> array of objects
);
CREATE TABLE IF NOT EXISTS ax_sequences (
	name  TEXT PRIMARY KEY, -- company + "/" + table, or "RecId"
	value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ax_answers (
	message_id TEXT PRIMARY KEY,
	status     INTEGER NOT NULL,
	ctype      TEXT NOT NULL,
	body       BLOB NOT NULL
);`

// recIDSequence names the RecId counter among the sequences (theirs all
// hold a "/").
const recIDSequence = "RecId"

// changed is a root row a write created or changed, to be saved.
type changed struct {
	company, table string
	r              *row
}

// Open returns a sandbox that keeps its records, number sequences and
// remembered answers in the SQLite database at path (created when new),
// so that a process started again on the same file serves what the last
// one answered: what `flowd --erp sandbox:ax2012 --sandbox-db PATH` runs,
// and what survives flowd being killed. Close closes the database.
func Open(path string, cfg Config) (*Server, error) {
	q := url.Values{"_pragma": {"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err == nil {
		_, err = db.Exec(persistSchema)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("ax2012 sandbox: open database %s: %w", path, err)
	}
	s := New(cfg)
	if err := s.load(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("ax2012 sandbox: load %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

// load reads the store and the remembered answers from db.
func (s *Server) load(db *sql.DB) error {
	rows, err := db.Query(`SELECT rec_id, company, tbl, version, fields, lines FROM ax_rows ORDER BY rec_id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var company, table, fields, lines string
		r := &row{}
		if err := rows.Scan(&r.recID, &company, &table, &r.version, &fields, &lines); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(fields), &r.fields); err != nil {
			return fmt.Errorf("row %d: %w", r.recID, err)
		}
		if err := json.Unmarshal([]byte(lines), &r.lines); err != nil {
			return fmt.Errorf("row %d: %w", r.recID, err)
		}
		if s.st.rows[company] == nil {
			s.st.rows[company] = map[string][]*row{}
		}
		s.st.rows[company][table] = append(s.st.rows[company][table], r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	seqs, err := db.Query(`SELECT name, value FROM ax_sequences`)
	if err != nil {
		return err
	}
	defer seqs.Close()
	for seqs.Next() {
		var name string
		var v int64
		if err := seqs.Scan(&name, &v); err != nil {
			return err
		}
		if name == recIDSequence {
			s.st.recID = v
		} else {
			s.st.seq[name] = v
		}
	}
	if err := seqs.Err(); err != nil {
		return err
	}
	answers, err := db.Query(`SELECT message_id, status, ctype, body FROM ax_answers`)
	if err != nil {
		return err
	}
	defer answers.Close()
	for answers.Next() {
		var id string
		var rep reply
		if err := answers.Scan(&id, &rep.status, &rep.ctype, &rep.body); err != nil {
			return err
		}
		s.answers[id] = rep
	}
	return answers.Err()
}

// save writes what the last write changed, and its answer under msgID
// when it has one, in one transaction. Called with s.mu held; without a
// database it only forgets the changes. When it fails, handle answers
// HTTP 500 (the client retries, and a retry finds the write in memory);
// a restart would not find it.
func (s *Server) save(msgID string, rep reply) error {
	changes := s.st.changed
	s.st.changed = nil
	if s.db == nil {
		return nil
	}
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, c := range changes {
		fields, err := json.Marshal(c.r.fields)
		if err != nil {
			return err
		}
		lines, err := json.Marshal(c.r.lines)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO ax_rows (rec_id, company, tbl, version, fields, lines) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (rec_id) DO UPDATE SET version = excluded.version, fields = excluded.fields, lines = excluded.lines`,
			c.r.recID, c.company, c.table, c.r.version, string(fields), string(lines)); err != nil {
			return err
		}
	}
	seqs := map[string]int64{recIDSequence: s.st.recID}
	for name, v := range s.st.seq {
		seqs[name] = v
	}
	for name, v := range seqs {
		if _, err := tx.Exec(`INSERT INTO ax_sequences (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, v); err != nil {
			return err
		}
	}
	if msgID != "" {
		if _, err := tx.Exec(`INSERT OR REPLACE INTO ax_answers (message_id, status, ctype, body) VALUES (?, ?, ?, ?)`,
			msgID, rep.status, rep.ctype, rep.body); err != nil {
			return err
		}
	}
	return tx.Commit()
}
