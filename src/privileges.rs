//! Dropping root: switching to an unprivileged user and group once the privileged setup is done.
//!
//! Why it exists: opening a live capture needs root (or `CAP_NET_RAW`), but parsing hostile
//! packets with root's rights is what an attacker hopes for. The sensor opens its interface as
//! root, then calls [`drop_to`]: only the one group is kept (no supplementary groups), the group
//! is changed before the user (afterwards it could not be), and the drop is checked, including
//! that root cannot be regained. Names are resolved with the reentrant `getpwnam_r` /
//! `getgrnam_r`; a name that is not found but is a number is taken as a numeric id.
//!
//! glibc and musl apply `setuid`, `setgid` and `setgroups` to every thread of the process, so
//! threads started before the drop are dropped too.

/// A resolved user and group to switch to (see [`resolve`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The user (as given) and its uid; `None` keeps the current user.
    pub user: Option<(String, u32)>,
    /// The group (as given, or the user's primary group) and its gid; `None` keeps the groups.
    pub group: Option<(String, u32)>,
}

/// Switches the process to `user` and `group` (names or numeric ids) for good.
///
/// With a user and no group, the user's primary group is used. With neither, nothing changes.
/// Fails, with a message saying why, when a name is unknown, the user is root, the process may
/// not change its ids (it is not root), or root could be regained afterwards.
pub fn drop_to(user: Option<&str>, group: Option<&str>) -> Result<(), String> {
    resolve(user, group)?.apply()
}

/// Looks up `user` and `group` without changing anything: call it early to reject a misspelt
/// name before the privileged setup, then [`Target::apply`] after it.
pub fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Target, String> {
    imp::resolve(user, group)
}

impl Target {
    /// Switches to the target ids: `setgroups` (the group only), `setgid`, `setuid`, in that
    /// order, then checks the ids and that root cannot be regained.
    pub fn apply(&self) -> Result<(), String> {
        imp::apply(self)
    }
}

#[cfg(unix)]
mod imp {
    use super::Target;
    use std::ffi::CString;
    use std::io;
    use std::os::raw::{c_char, c_int};

    /// Largest buffer offered to `get*_r` before giving up (entries are normally tiny).
    const MAX_BUFFER: usize = 1 << 20;

    pub(super) fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Target, String> {
        let user = user.map(|name| user_ids(name).map(|ids| (name, ids))).transpose()?;
        if let Some((name, (0, _))) = user {
            return Err(format!(
                "refusing to drop privileges to user '{name}': it is uid 0 (root) and keeps every privilege; \
                 choose an unprivileged user such as 'nobody'"
            ));
        }
        let group = match (group, user) {
            (Some(name), _) => Some((name.to_string(), group_id(name)?)),
            (None, Some((name, (_, Some(gid))))) => Some((name.to_string(), gid)),
            (None, Some((name, (_, None)))) => {
                return Err(format!(
                    "user '{name}' has no entry in the user database, so no primary group: give a group too"
                ))
            }
            (None, None) => None,
        };
        Ok(Target { user: user.map(|(name, (uid, _))| (name.to_string(), uid)), group })
    }

    pub(super) fn apply(target: &Target) -> Result<(), String> {
        let describe = |what: &str| match (&target.user, &target.group) {
            (Some((user, _)), Some((group, _))) => format!("cannot {what} user '{user}' and group '{group}'"),
            (None, Some((group, _))) => format!("cannot {what} group '{group}'"),
            (Some((user, _)), None) => format!("cannot {what} user '{user}'"),
            (None, None) => String::new(),
        };
        let Some((_, gid)) = target.group else {
            return Ok(()); // Nothing asked (a user always comes with a group from resolve).
        };
        let uid = target.user.as_ref().map(|(_, uid)| *uid);
        // SAFETY (this and the calls below): plain system calls on integers and a local array.
        let (ruid, euid) = unsafe { (libc::getuid(), libc::geteuid()) };
        if euid != 0 && already(uid, gid) {
            return Ok(()); // Started as the target already (with capabilities, say): nothing to drop.
        }
        let fail = |call: &str| {
            let error = io::Error::last_os_error();
            let hint = if error.raw_os_error() == Some(libc::EPERM) {
                format!(" (changing user or group needs root; ferret runs as uid {ruid}, effective uid {euid})")
            } else {
                String::new()
            };
            format!("{}: {call}: {error}{hint}", describe("switch to"))
        };
        let groups = [gid as libc::gid_t];
        if unsafe { libc::setgroups(1, groups.as_ptr()) } != 0 {
            return Err(fail("setgroups"));
        }
        if unsafe { libc::setgid(gid as libc::gid_t) } != 0 {
            return Err(fail("setgid"));
        }
        if let Some(uid) = uid {
            if unsafe { libc::setuid(uid as libc::uid_t) } != 0 {
                return Err(fail("setuid"));
            }
        }
        if !already(uid, gid) {
            return Err(format!("{}: the process ids did not change as asked", describe("switch to")));
        }
        if uid.is_some() && (unsafe { libc::setuid(0) } == 0 || unsafe { libc::seteuid(0) } == 0) {
            return Err(format!("{}: root could be regained after the switch", describe("safely switch to")));
        }
        Ok(())
    }

    /// Whether the real and effective ids are `uid` (when given) and `gid`, with no other group.
    fn already(uid: Option<u32>, gid: u32) -> bool {
        // SAFETY: id getters, and getgroups into a local array of the length given.
        let (ruid, euid, rgid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
        let mut groups = [0 as libc::gid_t; 2];
        let count = unsafe { libc::getgroups(2, groups.as_mut_ptr()) };
        let only_gid = match count {
            0 => true,
            1 | 2 => groups.iter().take(count as usize).all(|g| *g == gid as libc::gid_t),
            _ => false, // more than two, or an error
        };
        uid.is_none_or(|uid| ruid == uid as libc::uid_t && euid == uid as libc::uid_t)
            && rgid == gid as libc::gid_t
            && egid == gid as libc::gid_t
            && only_gid
    }

    /// `(uid, primary gid if known)` of a user name, or of a numeric uid not in the database.
    fn user_ids(name: &str) -> Result<(u32, Option<u32>), String> {
        let c_name = c_string(name, "user")?;
        let by_name = lookup(|entry: *mut libc::passwd, buf, len, result| {
            // SAFETY: all pointers are valid for the call; `buf` has `len` bytes.
            unsafe { libc::getpwnam_r(c_name.as_ptr(), entry, buf, len, result) }
        })
        .map_err(|e| format!("cannot look up user '{name}': {e}"))?;
        if let Some(entry) = by_name {
            return Ok((entry.pw_uid, Some(entry.pw_gid)));
        }
        let Some(uid) = numeric(name) else {
            return Err(format!("no such user '{name}'"));
        };
        let by_id = lookup(|entry: *mut libc::passwd, buf, len, result| {
            // SAFETY: as above.
            unsafe { libc::getpwuid_r(uid as libc::uid_t, entry, buf, len, result) }
        })
        .map_err(|e| format!("cannot look up uid {uid}: {e}"))?;
        Ok((uid, by_id.map(|entry| entry.pw_gid)))
    }

    /// The gid of a group name, or a numeric gid.
    fn group_id(name: &str) -> Result<u32, String> {
        let c_name = c_string(name, "group")?;
        let by_name = lookup(|entry: *mut libc::group, buf, len, result| {
            // SAFETY: all pointers are valid for the call; `buf` has `len` bytes.
            unsafe { libc::getgrnam_r(c_name.as_ptr(), entry, buf, len, result) }
        })
        .map_err(|e| format!("cannot look up group '{name}': {e}"))?;
        match (by_name, numeric(name)) {
            (Some(entry), _) => Ok(entry.gr_gid),
            (None, Some(gid)) => Ok(gid),
            (None, None) => Err(format!("no such group '{name}'")),
        }
    }

    fn c_string(name: &str, what: &str) -> Result<CString, String> {
        if name.is_empty() {
            return Err(format!("the {what} name is empty"));
        }
        CString::new(name).map_err(|_| format!("the {what} name '{}' contains a NUL byte", name.escape_debug()))
    }

    /// A decimal id: digits only (no sign, no spaces).
    fn numeric(name: &str) -> Option<u32> {
        if name.bytes().all(|b| b.is_ascii_digit()) {
            name.parse().ok()
        } else {
            None
        }
    }

    /// Calls a `get*_r` function with a growing buffer. The entry returned must only be read
    /// for its integer fields: its pointers point into a buffer that is gone.
    fn lookup<T: Copy>(
        mut call: impl FnMut(*mut T, *mut c_char, usize, *mut *mut T) -> c_int,
    ) -> io::Result<Option<T>> {
        let mut buf: Vec<c_char> = vec![0; 1024];
        loop {
            // SAFETY: passwd and group are C structs of integers and pointers; all zeroes is valid.
            let mut entry: T = unsafe { std::mem::zeroed() };
            let mut result: *mut T = std::ptr::null_mut();
            let rc = call(&mut entry, buf.as_mut_ptr(), buf.len(), &mut result);
            if rc == libc::ERANGE && buf.len() < MAX_BUFFER {
                buf.resize(buf.len() * 2, 0);
                continue;
            }
            if !result.is_null() {
                return Ok(Some(entry));
            }
            // Not found is rc 0 with a null result, or one of these codes (getpwnam_r(3)).
            return match rc {
                0 | libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => Ok(None),
                rc => Err(io::Error::from_raw_os_error(rc)),
            };
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::Target;

    pub(super) fn resolve(user: Option<&str>, group: Option<&str>) -> Result<Target, String> {
        match (user, group) {
            (None, None) => Ok(Target { user: None, group: None }),
            _ => Err("dropping privileges to a user or group is supported on Unix only".into()),
        }
    }

    pub(super) fn apply(_target: &Target) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn is_root() -> bool {
        // SAFETY: a plain getter.
        unsafe { libc::geteuid() == 0 }
    }

    #[test]
    fn root_and_its_group_resolve() {
        let target = resolve(None, Some("root")).unwrap();
        assert_eq!(target, Target { user: None, group: Some(("root".into(), 0)) });
        assert_eq!(resolve(None, Some("0")).unwrap().group, Some(("0".into(), 0)));
    }

    #[test]
    fn nobody_resolves_with_its_primary_group() {
        let target = resolve(Some("nobody"), None).unwrap();
        let (_, uid) = target.user.clone().unwrap();
        let (group, gid) = target.group.clone().unwrap();
        assert_ne!(uid, 0);
        assert_eq!(group, "nobody");
        assert_ne!(gid, 0);
        // The same ids by number, and an explicit group wins.
        let by_number = resolve(Some(&uid.to_string()), None).unwrap();
        assert_eq!(by_number.user.map(|(_, u)| u), Some(uid));
        assert_eq!(by_number.group.map(|(_, g)| g), Some(gid));
        let with_group = resolve(Some("nobody"), Some("4242")).unwrap();
        assert_eq!(with_group.group, Some(("4242".into(), 4242)));
    }

    #[test]
    fn unknown_names_are_clear_errors() {
        assert_eq!(resolve(Some("no-such-user-ferret"), None).unwrap_err(), "no such user 'no-such-user-ferret'");
        assert_eq!(resolve(None, Some("no-such-group-ferret")).unwrap_err(), "no such group 'no-such-group-ferret'");
        assert_eq!(resolve(Some(""), None).unwrap_err(), "the user name is empty");
        assert!(resolve(Some("a\0b"), None).unwrap_err().contains("NUL byte"));
        assert!(resolve(Some("-1"), None).unwrap_err().contains("no such user '-1'"));
    }

    #[test]
    fn a_numeric_uid_without_an_entry_needs_a_group() {
        let error = resolve(Some("3999999"), None).unwrap_err();
        assert!(error.contains("no primary group: give a group too"), "{error}");
        let target = resolve(Some("3999999"), Some("3999999")).unwrap();
        assert_eq!(target.user, Some(("3999999".into(), 3_999_999)));
    }

    #[test]
    fn root_is_no_drop() {
        let error = resolve(Some("root"), None).unwrap_err();
        assert!(error.contains("uid 0 (root)"), "{error}");
        assert!(resolve(Some("0"), Some("nobody")).is_err());
    }

    #[test]
    fn nothing_asked_changes_nothing() {
        drop_to(None, None).unwrap();
    }

    #[test]
    fn without_root_the_drop_fails_and_says_why() {
        if is_root() {
            eprintln!("SKIPPED: runs as root, so the drop would succeed (see root_drops_to_nobody_in_a_child)");
            return;
        }
        let error = drop_to(Some("nobody"), None).unwrap_err();
        assert!(error.contains("cannot switch to user 'nobody' and group 'nobody': setgroups"), "{error}");
        assert!(error.contains("needs root"), "{error}");
    }

    /// Forks; the child drops to `nobody` and reports by exit code what it found.
    #[test]
    fn root_drops_to_nobody_in_a_child() {
        if !is_root() {
            eprintln!("SKIPPED: dropping privileges needs root (run the tests as root to check it)");
            return;
        }
        let target = resolve(Some("nobody"), None).unwrap();
        let (uid, gid) = (target.user.clone().unwrap().1, target.group.clone().unwrap().1);
        // SAFETY: the child only makes system calls and exits with _exit, without unwinding
        // into the test harness; its allocation on an error path is safe with glibc's fork.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            let code = match target.apply() {
                Err(_) => 10,
                Ok(()) => unsafe {
                    let mut groups = [0 as libc::gid_t; 4];
                    let count = libc::getgroups(4, groups.as_mut_ptr());
                    if libc::getuid() != uid || libc::geteuid() != uid {
                        11
                    } else if libc::getgid() != gid || libc::getegid() != gid {
                        12
                    } else if count != 1 || groups[0] != gid {
                        13
                    } else if libc::setuid(0) == 0 || libc::setgid(0) == 0 {
                        14
                    } else {
                        0
                    }
                },
            };
            unsafe { libc::_exit(code) };
        }
        let mut status = 0;
        // SAFETY: waits for the child just forked.
        assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
        assert!(libc::WIFEXITED(status), "child did not exit normally: status {status}");
        let code = libc::WEXITSTATUS(status);
        let meaning = match code {
            0 => "ok",
            10 => "apply failed",
            11 => "uid not changed",
            12 => "gid not changed",
            13 => "supplementary groups not reduced to the group",
            14 => "root could be regained",
            _ => "unknown",
        };
        assert_eq!(code, 0, "child: {meaning}");
    }
}
