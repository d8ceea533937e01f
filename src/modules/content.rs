//! `copy` and `template`: a file whose whole content the task gives, inline or from the role's
//! `files/`, or rendered from the role's `templates/` with the host's variables. Written through
//! `remote_file.rs`: validated, backed up when asked, renamed into place.

use super::remote_file::ManagedFile;
use super::{
    Action, ArgError, ArgKind, ArgSpec, BuildContext, Findings, ModuleDef, ModuleKind, Plan,
    ProbeError, Rendered,
};

pub static COPY: ModuleDef = ModuleDef {
    name: "copy",
    aliases: &[],
    args: &[
        ArgSpec::required("dest", ArgKind::AbsPath),
        ArgSpec::optional("content", ArgKind::Text),
        ArgSpec::optional("src", ArgKind::Str),
        ArgSpec::optional("owner", ArgKind::Account),
        ArgSpec::optional("group", ArgKind::Account),
        ArgSpec::optional("mode", ArgKind::Mode),
        ArgSpec::optional("backup", ArgKind::Bool),
        ArgSpec::optional("validate", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build_copy),
};

pub static TEMPLATE: ModuleDef = ModuleDef {
    name: "template",
    aliases: &[],
    args: &[
        ArgSpec::required("src", ArgKind::Str),
        ArgSpec::required("dest", ArgKind::AbsPath),
        ArgSpec::optional("owner", ArgKind::Account),
        ArgSpec::optional("group", ArgKind::Account),
        ArgSpec::optional("mode", ArgKind::Mode),
        ArgSpec::optional("backup", ArgKind::Bool),
        ArgSpec::optional("validate", ArgKind::Str),
    ],
    free_form: None,
    kind: ModuleKind::Remote(build_template),
};

/// A whole file, as the task wants it.
struct Content {
    file: ManagedFile,
}

fn managed(args: &Rendered, content: Vec<u8>) -> Result<ManagedFile, ArgError> {
    let validate = args.opt_str("validate")?;
    if let Some(command) = &validate
        && !command.contains("%s")
    {
        return Err(ArgError::new(
            "validate",
            format!("{command:?} must contain %s, the path of the file to check"),
        ));
    }
    Ok(ManagedFile {
        path: args.abs_path("dest")?,
        content,
        owner: args.opt_word("owner")?,
        group: args.opt_word("group")?,
        mode: args.opt_mode("mode")?,
        validate,
        backup: args.bool_or("backup", false)?,
    })
}

fn build_copy(args: &Rendered, ctx: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let content = match (args.opt_str("content")?, args.opt_str("src")?) {
        (Some(content), None) => content.into_bytes(),
        (None, Some(src)) => (ctx.role_file)(&src).map_err(|e| ArgError::new("src", e))?,
        (Some(_), Some(_)) => {
            return Err(ArgError::new("src", "give either content or src, not both"));
        }
        (None, None) => {
            return Err(ArgError::new(
                "content",
                "is required (or src, a file of the role's files/)",
            ));
        }
    };
    Ok(Box::new(Content {
        file: managed(args, content)?,
    }))
}

fn build_template(args: &Rendered, ctx: &BuildContext) -> Result<Box<dyn Action>, ArgError> {
    let src = args.str("src")?;
    let content = (ctx.render_template)(&src).map_err(|e| ArgError::new("src", e))?;
    Ok(Box::new(Content {
        file: managed(args, content.into_bytes())?,
    }))
}

impl Action for Content {
    fn probe(&self) -> Option<String> {
        Some(self.file.probe("c"))
    }

    fn plan(&self, found: &Findings) -> Result<Plan, ProbeError> {
        self.file.plan(found, "c")
    }

    fn applied(&self, output: &Findings) -> Result<super::Applied, String> {
        applied_write(output)
    }
}

/// A file write's result: done (naming each backup kept: a step that writes several files may
/// keep one of each) or why not.
pub fn applied_write(output: &Findings) -> Result<super::Applied, String> {
    if output.exit_status != 0 {
        return Err(output.failure_text());
    }
    Ok(super::Applied {
        notes: output
            .values
            .iter()
            .filter(|(key, _)| key == "backup")
            .map(|(_, path)| format!("backup: {path}"))
            .collect(),
        command: None,
    })
}
