//! CPU lists as `--cpus` takes them, and the CPUs this process may use.

/// Parses `0,2-3` into `[0, 2, 3]`, keeping the order given and refusing
/// duplicates (two executors on one CPU defeat the point of pinning). The
/// error is the reason alone; callers name the flag and the list.
pub fn parse_cpu_list(list: &str) -> Result<Vec<usize>, String> {
    let mut cpus = Vec::new();
    for part in list.split(',').map(str::trim) {
        let (start, end) = part.split_once('-').unwrap_or((part, part));
        let number = |text: &str| text.trim().parse::<usize>();
        let (Ok(start), Ok(end)) = (number(start), number(end)) else {
            return Err("expected numbers like 0,2-3".to_string());
        };
        if start > end {
            return Err(format!("range {start}-{end} is inverted"));
        }
        for cpu in start..=end {
            if cpus.contains(&cpu) {
                return Err(format!("CPU {cpu} is listed twice"));
            }
            cpus.push(cpu);
        }
    }
    Ok(cpus)
}

/// The CPUs this process may run on, from its affinity mask, ascending.
pub fn available_cpus() -> Vec<usize> {
    let mut ids: Vec<usize> = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort_unstable();
    ids
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_list;

    #[test]
    fn lists_ranges_and_errors() {
        assert_eq!(parse_cpu_list("0,2-3"), Ok(vec![0, 2, 3]));
        assert_eq!(parse_cpu_list(" 3 , 1 "), Ok(vec![3, 1]));
        assert!(parse_cpu_list("1,1").unwrap_err().contains("listed twice"));
        assert!(parse_cpu_list("3-1").unwrap_err().contains("inverted"));
        assert!(parse_cpu_list("a").unwrap_err().contains("numbers"));
        assert!(parse_cpu_list("").is_err());
    }
}
