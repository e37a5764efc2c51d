// SCIMMY with scimmy-routers on Express 4: a SCIM 2.0 provider held in memory, for roster's tests.
//
//   node server.js PORT TOKEN [--express5-paging]
//
// PORT 0 picks a free port. Prints "Serving SCIM on http://127.0.0.1:PORT/scim/v2" once it
// listens, then one line per request ("METHOD /path STATUS"). The app's part is what SCIMMY
// leaves to it: the ingress/egress/degress handlers of User and Group, a bearer token, and
// userName kept unique (a 409 on a second one), as an app would.
//
// --express5-paging answers every listing as scimmy-routers does on Express 5: there `req.query`
// is a getter parsed again on each read, so the routers' cast of startIndex and count to numbers
// is lost, SCIMMY ignores both, and every page is the first 20 resources with startIndex 1.
"use strict";

const crypto = require("node:crypto");
const express = require("express");
const SCIMMY = require("scimmy");
const {SCIMMYRouters} = require("scimmy-routers");

const [portArg, token, ...flags] = process.argv.slice(2);
if (portArg === undefined || !token) {
    console.error("usage: node server.js PORT TOKEN [--express5-paging]");
    process.exit(2);
}
const express5Paging = flags.includes("--express5-paging");

const users = new Map();
const groups = new Map();

// A listing (filtered by SCIMMY's own filter when one was asked for) or one resource.
function egress(store) {
    return (resource) => {
        if (resource.id) {
            const found = store.get(resource.id);
            if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return found;
        }
        const all = [...store.values()];
        return resource.filter ? resource.filter.match(all) : all;
    };
}

// A create (POST) or a whole replacement (PUT, and the result of a PATCH).
function ingress(store, unique) {
    return (resource, instance) => {
        const now = new Date().toISOString();
        const id = resource.id ?? crypto.randomUUID();
        const old = resource.id ? store.get(id) : undefined;
        if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${id} not found`);
        if (unique) {
            const key = String(instance[unique] ?? "").toLowerCase();
            for (const other of store.values()) {
                if (other.id !== id && String(other[unique] ?? "").toLowerCase() === key) {
                    throw new SCIMMY.Types.Error(409, "uniqueness", `${unique} ${instance[unique]} is taken`);
                }
            }
        }
        const kept = {...instance, id, meta: {created: old?.meta?.created ?? now, lastModified: now}};
        delete kept.schemas;
        store.set(id, kept);
        return kept;
    };
}

function degress(store) {
    return (resource) => {
        if (!store.delete(resource.id)) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    };
}

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress(ingress(users, "userName"))
    .egress(egress(users))
    .degress(degress(users));
SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress(ingress(groups, null))
    .egress(egress(groups))
    .degress(degress(groups));

const app = express();
app.use((req, res, next) => {
    res.on("finish", () => console.log(`${req.method} ${req.originalUrl} ${res.statusCode}`));
    next();
});
if (express5Paging) {
    app.use((req, res, next) => {
        delete req.query.startIndex;
        delete req.query.count;
        next();
    });
}
const expected = Buffer.from(`Bearer ${token}`);
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (req) => {
        const given = Buffer.from(req.header("Authorization") ?? "");
        if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
            throw new Error("Authorization failed");
        }
        return "roster";
    },
    context: () => ({}),
}));

const server = app.listen(Number(portArg), "127.0.0.1", () => {
    console.log(`Serving SCIM on http://127.0.0.1:${server.address().port}/scim/v2`);
});
