import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "./api/client";
import { loadRules } from "./service-clock";
import type { Role, UserPublic } from "./api/types";
import { Login } from "./pages/Login";
import { Console } from "./pages/Console";
import { CourierApp } from "./pages/Courier";
import { SenderPages } from "./pages/Sender";
import { StaffPage } from "./pages/Staff";
import { TrackPage } from "./pages/Track";
import { PasswordPanel } from "./pages/Password";
import "./style.css";

// Which role each page is for; the service checks again on every request.
const HOME: Record<Role, string> = {
  operator: "/console",
  courier: "/courier",
  merchant: "/sender",
  customer: "/sender",
  staff: "/staff",
};
const PAGE_ROLES: Record<string, Role[]> = {
  "/console": ["operator"],
  "/courier": ["courier"],
  "/sender": ["merchant", "customer"],
  "/staff": ["staff"],
};

export function navigate(path: string): void {
  history.pushState(null, "", path);
  window.dispatchEvent(new PopStateEvent("popstate"));
}

function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    window.addEventListener("popstate", update);
    return () => window.removeEventListener("popstate", update);
  }, []);
  return path;
}

function section(path: string): string {
  return `/${path.split("/")[1] ?? ""}`;
}

function App() {
  const path = usePath();
  const [me, setMe] = useState<UserPublic | null | undefined>(undefined);

  // Signed in, the service's clock is read before any page shows: a demo clock may run
  // ahead of the browser's, and the forms' default times (a pickup in 10 minutes) and
  // every "now" of the pages are the service's.
  const load = () =>
    api
      .get<UserPublic>("/me")
      .then(async (user) => {
        await loadRules().catch(() => undefined);
        setMe(user);
      })
      .catch(() => setMe(null));

  useEffect(() => {
    if (path.startsWith("/track/")) return;
    void load();
    const signedOut = () => setMe(null);
    window.addEventListener("crowdship:signed-out", signedOut);
    return () => window.removeEventListener("crowdship:signed-out", signedOut);
  }, []);

  if (path.startsWith("/track/")) return <TrackPage token={path.slice("/track/".length)} />;
  if (me === undefined) return <p class="loading">Loading…</p>;
  if (me === null) {
    return (
      <Login
        onSignedIn={(role) => {
          void load();
          const wanted = section(path);
          navigate(PAGE_ROLES[wanted]?.includes(role) ? path : HOME[role]);
        }}
      />
    );
  }
  const signOut = async () => {
    await api.del("/auth/session");
    setMe(null);
    navigate("/login");
  };
  const where = section(path);
  const allowed = PAGE_ROLES[where];
  if (!allowed) {
    navigate(HOME[me.role]);
    return null;
  }
  if (!allowed.includes(me.role)) {
    return (
      <Shell me={me} onSignOut={signOut}>
        <main class="page" id="main">
          <h1>Not for your role</h1>
          <p role="alert" class="form-error">
            This page is for the {allowed.join(" or ")} role; you are signed in as {me.role}.
          </p>
          <p>
            <a href={HOME[me.role]} onClick={(e) => { e.preventDefault(); navigate(HOME[me.role]); }}>
              Go to your page
            </a>
          </p>
        </main>
      </Shell>
    );
  }
  return (
    <Shell me={me} onSignOut={signOut}>
      {where === "/console" && <Console me={me} />}
      {where === "/courier" && <CourierApp me={me} onChanged={load} />}
      {where === "/sender" && <SenderPages me={me} />}
      {where === "/staff" && <StaffPage me={me} />}
    </Shell>
  );
}

function Shell({ me, onSignOut, children }: { me: UserPublic; onSignOut: () => void; children: preact.ComponentChildren }) {
  const [changing, setChanging] = useState(false);
  const [changed, setChanged] = useState(false);
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="topbar">
        <span class="brand">crowdship</span>
        <span class="who" title={`${me.name} · ${me.role}`}>
          <span class="name">{me.name}</span><span class="role">&nbsp;· {me.role}</span>
        </span>
        <button type="button" class="link" aria-expanded={changing} onClick={() => { setChanging(!changing); setChanged(false); }}>
          Password
        </button>
        <button type="button" class="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {changing && (
        <PasswordPanel me={me} onClose={(done) => { setChanging(false); setChanged(done); }} />
      )}
      {changed && (
        <p class="notice" role="status">
          Password changed; every other device was signed out.
        </p>
      )}
      {children}
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
