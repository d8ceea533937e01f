//! `ini_file`: one `option=value` line inside a `[section]` of an INI-style file, edited in
//! place, every other line kept as it is (systemd's system.conf must be edited, not overwritten:
//! Medulla's own Ansible edits other lines of it).
//!
//! Where the line goes: an active `option=` line of the section is replaced (later duplicates
//! are removed, so the value is unambiguous); else a commented-out `#option=` line of the
//! section is replaced, in place (the file's own documentation stays beside it); else the line
//! is added at the end of the section; a missing section is added at the end of the file.

use super::content::applied_write;
use super::remote_file::ManagedFile;
use super::shell::FileStat;
use super::{
    Action, Applied, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind,
    Plan, ProbeError, Rendered,
};
use crate::modules::PRESENT_ABSENT;

pub static INI_FILE: ModuleDef = ModuleDef {
    name: "ini_file",
    aliases: &[],
    args: &[
        ArgSpec::required("path", ArgKind::AbsPath),
        ArgSpec::optional("section", ArgKind::Str),
        ArgSpec::required("option", ArgKind::Word),
        ArgSpec::optional("value", ArgKind::Str),
        ArgSpec::optional("state", ArgKind::Choice(PRESENT_ABSENT)),
        ArgSpec::optional("no_extra_spaces", ArgKind::Bool),
        ArgSpec::optional("create", ArgKind::Bool),
        ArgSpec::optional("backup", ArgKind::Bool),
        ArgSpec::optional("mode", ArgKind::Mode),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build),
};

/// One setting to make.
#[derive(Clone, Debug)]
pub struct Setting {
    pub section: Option<String>,
    pub option: String,
    /// `None`: remove the option.
    pub value: Option<String>,
    pub no_extra_spaces: bool,
}

struct IniFile {
    file: ManagedFile,
    setting: Setting,
    create: bool,
}

fn build(args: &Rendered, _: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let present = args.present()?;
    let value = if present {
        Some(args.str("value")?)
    } else {
        None
    };
    if value.as_deref().is_some_and(|v| v.contains('\n')) {
        return Err(ArgError::new("value", "must be one line"));
    }
    Ok(Box::new(IniFile {
        file: ManagedFile {
            path: args.abs_path("path")?,
            content: Vec::new(),
            owner: None,
            group: None,
            mode: args.opt_mode("mode")?,
            validate: None,
            backup: args.bool_or("backup", false)?,
        },
        setting: Setting {
            section: args.opt_str("section")?,
            option: args.word("option")?,
            value,
            no_extra_spaces: args.bool_or("no_extra_spaces", false)?,
        },
        create: args.bool_or("create", true)?,
    }))
}

impl Action for IniFile {
    fn probe(&self) -> Option<String> {
        Some(self.file.probe("i"))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        let stat = FileStat::from_findings(found, "i")?;
        let exists = stat != FileStat::Absent;
        let before = match stat {
            FileStat::Absent if self.setting.value.is_none() => return Ok(Plan::unchanged()),
            FileStat::Absent if !self.create => {
                return Err(ProbeError::Missing(
                    super::Resource::Path(self.file.path.clone()),
                    format!("{} does not exist (create: false)", self.file.path),
                ));
            }
            FileStat::Absent => String::new(),
            FileStat::Present { .. } => {
                let bytes = found.content("i").ok_or_else(|| {
                    ProbeError::Failed(format!(
                        "{} is larger than 1 MiB: too large to edit",
                        self.file.path
                    ))
                })?;
                String::from_utf8(bytes.to_vec()).map_err(|_| {
                    ProbeError::Failed(format!("{} is not a text file", self.file.path))
                })?
            }
        };
        let after = edit(&before, &self.setting);
        let rewrites = after != before;
        let file = ManagedFile {
            content: after.into_bytes(),
            ..self.file.clone()
        };
        let mut plan = file.plan(found, "i")?;
        // "rewrite the content of …" says less than the setting itself.
        if rewrites
            && exists
            && let Some(first) = plan.changes.first_mut()
        {
            let setting = &self.setting;
            let section = setting
                .section
                .as_ref()
                .map(|s| format!(" in [{s}]"))
                .unwrap_or_default();
            *first = match &setting.value {
                Some(value) => format!(
                    "set {}={value}{section} of {}",
                    setting.option, self.file.path
                ),
                None => format!("remove {}{section} of {}", setting.option, self.file.path),
            };
        }
        Ok(plan)
    }

    fn applied(&self, output: &Findings) -> Result<Applied, String> {
        applied_write(output)
    }
}

/// The file's text with the setting made (see the module's doc).
pub fn edit(text: &str, setting: &Setting) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let wanted = setting.value.as_ref().map(|value| {
        if setting.no_extra_spaces {
            format!("{}={value}", setting.option)
        } else {
            format!("{} = {value}", setting.option)
        }
    });
    let Some((start, end)) = section_range(&lines, setting.section.as_deref()) else {
        // The section does not exist.
        let Some(line) = wanted else {
            return text.to_string();
        };
        if lines.last().is_some_and(|l| !l.trim().is_empty()) {
            lines.push(String::new());
        }
        if let Some(section) = &setting.section {
            lines.push(format!("[{section}]"));
        }
        lines.push(line);
        return joined(lines);
    };
    let active: Vec<usize> = (start..end)
        .filter(|&i| option_of(&lines[i]) == Some(setting.option.as_str()))
        .collect();
    match wanted {
        None => {
            for &i in active.iter().rev() {
                lines.remove(i);
            }
        }
        Some(line) => {
            if let Some((&first, rest)) = active.split_first() {
                lines[first] = line;
                for &i in rest.iter().rev() {
                    lines.remove(i);
                }
            } else if let Some(i) = (start..end)
                .find(|&i| commented_option_of(&lines[i]) == Some(setting.option.as_str()))
            {
                lines[i] = line;
            } else {
                // After the section's last non-blank line.
                let at = (start..end)
                    .rev()
                    .find(|&i| !lines[i].trim().is_empty())
                    .map_or(start, |i| i + 1);
                lines.insert(at, line);
            }
        }
    }
    joined(lines)
}

/// Lines of the section's body: after its header up to the next header; for no section, the
/// lines before the first header. `None` when the section is not in the file.
fn section_range(lines: &[String], section: Option<&str>) -> Option<(usize, usize)> {
    let is_header = |l: &str| {
        let t = l.trim();
        t.starts_with('[') && t.ends_with(']')
    };
    let start = match section {
        None => 0,
        Some(name) => {
            lines
                .iter()
                .position(|l| is_header(l) && l.trim()[1..l.trim().len() - 1].trim() == name)?
                + 1
        }
    };
    let end = (start..lines.len())
        .find(|&i| is_header(&lines[i]))
        .unwrap_or(lines.len());
    Some((start, end))
}

/// The option an active `key = value` line sets.
fn option_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    t.split_once('=').map(|(k, _)| k.trim())
}

/// The option a commented-out `#key=value` line would set.
fn commented_option_of(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t.strip_prefix('#').or_else(|| t.strip_prefix(';'))?;
    let (key, _) = rest.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.contains(char::is_whitespace)).then_some(key)
}

fn joined(lines: Vec<String>) -> String {
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(option: &str, value: &str) -> Setting {
        Setting {
            section: Some("Manager".into()),
            option: option.into(),
            value: Some(value.into()),
            no_extra_spaces: true,
        }
    }

    const SYSTEM_CONF: &str = "\
#  This file is part of systemd.
[Manager]
#LogLevel=info
#DefaultLimitNOFILE=1024:524288
#DefaultLimitNPROC=
#DefaultLimitSIGPENDING=
#DefaultLimitMSGQUEUE=
";

    #[test]
    fn a_commented_default_is_replaced_in_place() {
        let text = edit(SYSTEM_CONF, &set("DefaultLimitNPROC", "31541"));
        assert_eq!(
            text,
            SYSTEM_CONF.replace("#DefaultLimitNPROC=\n", "DefaultLimitNPROC=31541\n")
        );
    }

    #[test]
    fn editing_twice_changes_nothing_more() {
        let once = edit(SYSTEM_CONF, &set("DefaultLimitSIGPENDING", "31541"));
        assert_eq!(edit(&once, &set("DefaultLimitSIGPENDING", "31541")), once);
    }

    #[test]
    fn an_active_line_is_replaced_and_duplicates_removed() {
        let text = "[Manager]\nDefaultLimitNPROC = 100\nX=1\nDefaultLimitNPROC=200\n[Other]\nDefaultLimitNPROC=7\n";
        assert_eq!(
            edit(text, &set("DefaultLimitNPROC", "31541")),
            "[Manager]\nDefaultLimitNPROC=31541\nX=1\n[Other]\nDefaultLimitNPROC=7\n"
        );
    }

    #[test]
    fn a_new_option_goes_at_the_end_of_its_section() {
        let text = "[Manager]\nA=1\n\n[Other]\nB=2\n";
        assert_eq!(
            edit(text, &set("C", "3")),
            "[Manager]\nA=1\nC=3\n\n[Other]\nB=2\n"
        );
    }

    #[test]
    fn a_missing_section_is_added_at_the_end() {
        assert_eq!(edit("", &set("C", "3")), "[Manager]\nC=3\n");
        assert_eq!(
            edit("[A]\nx=1\n", &set("C", "3")),
            "[A]\nx=1\n\n[Manager]\nC=3\n"
        );
    }

    #[test]
    fn spaces_around_the_sign_as_ansible_writes_them_by_default() {
        let mut setting = set("C", "3");
        setting.no_extra_spaces = false;
        assert_eq!(edit("[Manager]\n", &setting), "[Manager]\nC = 3\n");
    }

    #[test]
    fn absent_removes_the_active_lines_only() {
        let mut setting = set("A", "");
        setting.value = None;
        assert_eq!(
            edit("[Manager]\n#A=0\nA=1\n", &setting),
            "[Manager]\n#A=0\n"
        );
    }
}
