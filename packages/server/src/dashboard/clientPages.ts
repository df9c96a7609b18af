/**
 * The dashboard script's table of pages (spliced into `clientScript`, whose
 * functions and state it uses): what each page reads for each of its parts,
 * how it renders them with the views, and which events make a part stale.
 * Plain browser JavaScript, no build step.
 */
export const pagesSource = String.raw`  /** The page's filter: the parameters of its address named in keep, as an object and as a query string. */
  function query(keep) {
    var params = new URLSearchParams(location.search);
    var filter = {};
    var out = new URLSearchParams();
    keep.forEach(function (k) {
      var v = params.get(k);
      if (v) { filter[k] = v; out.set(k, v); }
    });
    return { filter: filter, search: out.toString() };
  }

  /** What each page reads for each of its parts, and how it renders them. */
  var pages = {
    overview: {
      parts: ["status", "budget", "recent"],
      read: {
        status: function () { return api("agent/status").then(function (s) { state.status = s; }); },
        budget: function () { return api("agent/budget/today").then(function (b) { state.budget = b; }); },
        recent: function () { return api("agent/researches?limit=20").then(function (p) { state.recent = p.researches; }); }
      },
      render: function () {
        return V.overview({ status: state.status, budget: state.budget || null, recent: state.recent || [], now: Date.now() });
      },
      affected: function (name, event) {
        var parts = ["status"];
        if (name === "Transition" || name === "Triggered") parts.push("recent");
        if (name === "Charged") parts.push("budget");
        return parts;
      }
    },
    researches: {
      parts: ["list"],
      read: {
        list: function () {
          var q = query(["status", "verdict", "strategy", "since", "until", "limit", "offset"]);
          return api("agent/researches" + (q.search ? "?" + q.search : "")).then(function (p) { state.page = p; state.filter = q.filter; });
        }
      },
      render: function () { return V.researches({ page: state.page, filter: state.filter }); },
      affected: function (name) {
        return name === "Triggered" || name === "Transition" || name === "Charged" ? ["list"] : [];
      }
    },
    research: {
      parts: ["detail"],
      read: {
        detail: function () {
          return api("agent/researches/" + encodeURIComponent(researchId)).then(function (d) { state.detail = d; });
        }
      },
      render: function () { return V.researchDetail(state.detail, Date.now()); },
      affected: function (name, event) {
        return event && event.researchId === researchId ? ["detail"] : [];
      }
    },
    strategies: {
      parts: ["leaderboard"],
      read: {
        leaderboard: function () {
          var q = query(["sort", "indicator", "instrument", "verdict", "limit"]);
          return api("leaderboard" + (q.search ? "?" + q.search : "")).then(function (b) { state.board = b; state.boardFilter = q.filter; });
        }
      },
      render: function () { return V.leaderboard({ board: state.board, filter: state.boardFilter }); },
      affected: function (name) { return name === "Transition" ? ["leaderboard"] : []; }
    },
    compare: {
      parts: ["compare"],
      read: {
        compare: function () {
          var ids = [];
          new URLSearchParams(location.search).getAll("ids").forEach(function (v) {
            v.split(",").forEach(function (id) { id = id.trim(); if (id && ids.indexOf(id) < 0) ids.push(id); });
          });
          ids = ids.slice(0, 12);
          state.compareIds = ids;
          return Promise.all(ids.map(function (id) {
            return api("agent/researches/" + encodeURIComponent(id)).then(function (d) { return { detail: d }; }, function (e) {
              if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return { missing: id };
              throw e;
            });
          })).then(function (found) {
            state.compared = {
              details: found.filter(function (f) { return f.detail; }).map(function (f) { return f.detail; }),
              missing: found.filter(function (f) { return f.missing; }).map(function (f) { return f.missing; })
            };
          });
        }
      },
      render: function () { return V.compare(state.compared); },
      affected: function (name, event) {
        return event && state.compareIds && state.compareIds.indexOf(event.researchId) >= 0 ? ["compare"] : [];
      }
    },
    workers: {
      parts: ["workers"],
      read: {
        workers: function () {
          return Promise.all([api("agent/workers"), api("agent/status")]).then(function (r) {
            state.workers = r[0];
            state.active = r[1].active;
          });
        }
      },
      render: function () { return V.workers({ workers: state.workers, active: state.active, now: Date.now() }); },
      affected: function (name, event) {
        if (name === "WorkerChanged" || name === "JobStarted" || name === "Transition") return ["workers"];
        return name === "JobReported" && event && event.report !== "Progress" ? ["workers"] : [];
      }
    },
    plan: {
      parts: ["plan"],
      read: {
        plan: function () {
          var q = query(["since", "until", "type", "counts", "seeds"]);
          state.planFilter = q.filter;
          return api("plan" + (q.search ? "?" + q.search : "")).then(function (p) {
            state.plan = p;
            state.planError = null;
          }, function (e) {
            if (!(e instanceof ApiError) || e.status === 401 || e.status === 403) throw e;
            state.plan = null;
            state.planError = e.message;
          });
        }
      },
      render: function () { return V.plan({ plan: state.plan, error: state.planError, filter: state.planFilter }); },
      affected: function () { return []; }
    }
  };`
