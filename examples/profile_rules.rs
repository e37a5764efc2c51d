fn main() {
    let t = std::time::Instant::now();
    let mut ok = 0;
    for i in 0..100_000u64 {
        if roster::core::phone::normalize(&format!("+4670{:07}", i * 37 % 10_000_000), None).is_ok()
        {
            ok += 1;
        }
    }
    println!("phone e164: {:?} ({ok} ok)", t.elapsed());
    let t = std::time::Instant::now();
    for i in 0..100_000u64 {
        if roster::core::mail::check(&format!("asa.oberg{i}@example.se")).is_ok() {
            ok += 1;
        }
    }
    println!("mail: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    for i in 0..100_000u64 {
        if roster::core::phone::normalize(&format!("+46 70-{:03} {:04}", i % 1000, i % 10000), None)
            .is_ok()
        {
            ok += 1;
        }
    }
    println!("phone slow: {:?} {ok}", t.elapsed());
}
