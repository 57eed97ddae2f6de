//! The audit log's vocabulary: what was done and how it ended, as closed sets, so that every
//! record is written with the same words and `lagesbild audit --action` finds them all.

str_enum! {
    /// What a record is about.
    pub enum AuditAction {
        /// Exact or restricted data handed out by a read.
        Read = "read",
        /// Counts at exact precision.
        Aggregate = "aggregate",
        /// A feature created (or the attempt).
        Create = "create",
        /// A feature replaced or patched (or the attempt).
        Edit = "edit",
        /// A feature deleted (or the attempt).
        Delete = "delete",
        /// A file or briefing written.
        Export = "export",
        /// A live-event subscription.
        Subscribe = "subscribe",
        /// A restricted feature sent as a live event.
        Event = "event",
        /// A refused request (401, 403).
        Denied = "denied",
        /// A sign-in (or the attempt).
        Login = "login",
        /// A sign-out.
        Logout = "logout",
        /// The audit log read.
        AuditRead = "audit.read",
        /// An account added.
        UserAdd = "user.add",
        /// An account disabled.
        UserDisable = "user.disable",
        /// An account enabled again.
        UserEnable = "user.enable",
        /// A password set.
        UserPasswd = "user.passwd",
        /// The accounts listed.
        UserList = "user.list",
        /// An API token made.
        TokenCreate = "token.create",
        /// An API token revoked.
        TokenRevoke = "token.revoke",
        /// The API tokens listed.
        TokenList = "token.list",
        /// Retention run: incidents removed for good.
        Purge = "purge",
        /// A meeting recorded.
        MeetingCreate = "meeting.create",
        /// An open meeting's record changed.
        MeetingEdit = "meeting.edit",
        /// A meeting closed (its record never changes again).
        MeetingClose = "meeting.close",
        /// A meeting's weekly agenda made.
        Agenda = "meeting.agenda",
        /// The lägesbild document's text for a period written.
        ReportEdit = "report.edit",
    }
}

str_enum! {
    /// How it ended.
    pub enum AuditOutcome {
        /// Done.
        Ok = "ok",
        /// Not allowed for the caller.
        Denied = "denied",
        /// The input broke the rules.
        Invalid = "invalid",
        /// No such thing (for the caller).
        NotFound = "not_found",
        /// Someone else changed it first, or a name is taken.
        Conflict = "conflict",
        /// Something failed.
        Failed = "failed",
        /// Refused for a while after repeated failures.
        Throttled = "throttled",
        /// No valid session or token.
        Unauthenticated = "unauthenticated",
    }
}
