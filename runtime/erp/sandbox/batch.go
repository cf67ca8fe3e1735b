package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/flowhq/flow/runtime/erp/odata"
)

// batch answers POST /data/$batch: each changeset runs in one SQLite
// transaction (all or nothing), every other part on its own. The envelope is
// 200 whatever the operations answer; each operation gets its own response
// part with its Content-ID. When an operation of a changeset fails, it keeps
// its error and every other operation of the changeset is answered 424
// Failed Dependency, since none of them was applied.
func (s *Server) batch(ctx context.Context, c call) reply {
	parts, err := odata.ReadRequest(c.header.Get("Content-Type"), bytes.NewReader(c.body))
	if err != nil {
		return badRequest("The batch request is not valid: %v.", err).reply()
	}
	out := make([]odata.ResponsePart, len(parts))
	for i, p := range parts {
		if p.Changeset {
			out[i] = s.changeset(ctx, c, p.Requests)
			continue
		}
		r := p.Requests[0]
		rep := s.batchOp(c, r, func(op call) reply { return s.do(ctx, op) })
		out[i] = odata.ResponsePart{Responses: []odata.Response{response(r.ContentID, rep)}}
	}
	boundary := odata.Boundary("batchresponse")
	var b bytes.Buffer
	if err := odata.WriteResponse(&b, boundary, out); err != nil {
		return s.internal(err)
	}
	return reply{status: http.StatusOK, header: http.Header{"Content-Type": {odata.ContentType(boundary)}}, body: b.Bytes()}
}

func (s *Server) changeset(ctx context.Context, c call, reqs []odata.Request) odata.ResponsePart {
	part := odata.ResponsePart{Changeset: true, Responses: make([]odata.Response, len(reqs))}
	fail := func(status int, msg string) odata.ResponsePart {
		for j, r := range reqs {
			part.Responses[j] = response(r.ContentID, statusError(status, "%s", msg).reply())
		}
		return part
	}
	tx, err := s.st.db.BeginTx(ctx, nil)
	if err != nil {
		s.log.Error("sandbox: begin changeset", "err", err)
		return fail(http.StatusInternalServerError, "An error has occurred.")
	}
	for j, r := range reqs {
		rep := s.batchOp(c, r, func(op call) reply { return s.exec(ctx, tx, op) })
		part.Responses[j] = response(r.ContentID, rep)
		if rep.status < 400 {
			continue
		}
		_ = tx.Rollback() // the changeset fails as a whole
		for k, other := range reqs {
			if k != j {
				part.Responses[k] = response(other.ContentID, statusError(http.StatusFailedDependency,
					"The operation was not applied because operation %s of its changeset failed.", r.ContentID).reply())
			}
		}
		return part
	}
	if err := tx.Commit(); err != nil {
		s.log.Error("sandbox: commit changeset", "err", err)
		return fail(http.StatusInternalServerError, "An error has occurred.")
	}
	return part
}

// batchOp turns an operation of a batch into a call and runs it with run.
func (s *Server) batchOp(c call, r odata.Request, run func(call) reply) reply {
	u, err := url.Parse(r.URL)
	if err != nil {
		return badRequest("The URL '%s' of operation %s is not valid.", r.URL, r.ContentID).reply()
	}
	path := u.Path
	if strings.HasPrefix(path, "/") || u.IsAbs() {
		_, rel, under := strings.Cut(path, "/data/")
		if !under {
			return badRequest("The URL '%s' of operation %s is not under the service root.", r.URL, r.ContentID).reply()
		}
		path = rel
	}
	if path == "$batch" || path == "$metadata" || strings.HasPrefix(path, "$") {
		return badRequest("The URL '%s' of operation %s cannot be used inside a batch.", r.URL, r.ContentID).reply()
	}
	s.count("batch " + r.Method + " " + kindOf(path))
	h := r.Header
	if h == nil {
		h = http.Header{}
	}
	return run(call{method: r.Method, path: path, query: u.Query(), header: h, body: r.Body, root: c.root})
}

func response(contentID string, rep reply) odata.Response {
	return odata.Response{ContentID: contentID, Status: rep.status, Header: rep.header, Body: rep.body}
}
