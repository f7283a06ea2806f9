//! The deployment policy's fixed facts (DEPLOYMENT_POLICY.md). Later work lets a target
//! override some of them from a policy file; the profile never changes.

/// The only compose profile production may use.
pub const PROFILE: &str = "aws";
pub const DEFAULT_USER: &str = "ubuntu";
pub const PROJECT_DIR: &str = "/home/ubuntu/automated-trading-platform";
/// The services of the `aws` profile, in the policy's order.
pub const SERVICES: [&str; 4] = ["backend-aws", "frontend-aws", "db", "market-updater-aws"];
pub const HEALTH_URL: &str = "http://localhost:8002/api/health";
