//! UpdateApplication: code, inputs, outputs, reference data and logging options changed at
//! once; a running application restarts on the new version where it stopped.

use weir_analytics::update::ApplicationUpdate;
use weir_analytics::Change;

use super::{changed, read, string, version};
use crate::error::ApiError;
use crate::input::Input;
use crate::value::Value;
use crate::Ctx;

pub async fn handle(ctx: &Ctx, mut input: Input) -> Result<Value, ApiError> {
    let name = string(&mut input, "ApplicationName");
    let expected = version(&mut input);
    let update: ApplicationUpdate = read(&mut input, "ApplicationUpdate")?.unwrap_or_default();
    changed(
        ctx.analytics
            .change(&ctx.region, &name, expected, Change::Update(update))
            .await,
    )
}
